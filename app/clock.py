"""The one clock: tests move time by patching `app.clock.now`."""

from datetime import UTC, datetime


def now():
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)
