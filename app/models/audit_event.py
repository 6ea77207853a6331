"""Security events of the audit trail (app/audit), one row each."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

ACTOR_USER = "user"
ACTOR_ADMIN = "admin"
ACTOR_SYSTEM = "system"
# SQLite only auto-increments an INTEGER PRIMARY KEY (its rowid).
EVENT_ID = BigInteger().with_variant(Integer(), "sqlite")


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    # Ascending with time: the keyset of every listing (newest first).
    id: Mapped[int] = mapped_column(EVENT_ID, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    type: Mapped[str] = mapped_column(String(48))
    # No foreign key: the trail outlives the account it is about.
    user_id: Mapped[uuid.UUID | None] = mapped_column()
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    session_id: Mapped[uuid.UUID | None] = mapped_column()
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    request_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    __table_args__ = (
        Index("ix_audit_events_user_id_id", "user_id", "id"),
        Index("ix_audit_events_type_id", "type", "id"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
    )
