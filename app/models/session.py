"""Login sessions: what refresh tokens keep alive and access tokens belong to."""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow
from app.models.user import User

TRANSPORT_COOKIE = "cookie"
TRANSPORT_BEARER = "bearer"


class UserSession(db.Model):
    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE")
    )
    transport: Mapped[str] = mapped_column(String(10))
    # Only identifiers (jti) of signed refresh tokens are stored, never the tokens.
    refresh_jti: Mapped[str] = mapped_column(String(64))
    previous_refresh_jti: Mapped[str | None] = mapped_column(String(64))
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    # How the session was authenticated (RFC 8176 `amr` values, space-separated) and
    # when last: a step-up renews both.
    amr: Mapped[str] = mapped_column(String(64), default="pwd", server_default="pwd")
    auth_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # False: the refresh token is not rotated and reuse is not detected (the
    # compatibility profiles whose refresh answer has no field for a new one).
    rotating: Mapped[bool] = mapped_column(
        Boolean(), default=True, server_default=true()
    )
    user_agent: Mapped[str | None] = mapped_column(String(512))
    ip: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(lazy="raise")

    __table_args__ = (
        Index("ix_sessions_user_id_revoked_at", "user_id", "revoked_at"),
        Index("ix_sessions_expires_at", "expires_at"),
        Index("ix_sessions_revoked_at", "revoked_at"),
    )
