"""Column types that behave the same on SQLite and PostgreSQL."""

from datetime import UTC

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

from app import clock


def utcnow():
    """Column default: looks `clock.now` up at call time, so tests can move time."""
    return clock.now()


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out; SQLite would otherwise hand back naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
