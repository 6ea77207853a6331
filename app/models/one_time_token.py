"""Single-use tokens mailed to users (password reset, email verification)."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

PURPOSE_PASSWORD_RESET = "password_reset"
PURPOSE_EMAIL_VERIFY = "email_verify"
# The "This wasn't me" link of a security alert (app/auth/alerts.py).
PURPOSE_COMPROMISED = "compromised"
# An email change: the confirm link (to the new address) and the revert link (to the
# old one); `email` holds the address each switches to.
PURPOSE_EMAIL_CHANGE = "email_change"
PURPOSE_EMAIL_REVERT = "email_revert"


class OneTimeToken(db.Model):
    __tablename__ = "one_time_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE")
    )
    purpose: Mapped[str] = mapped_column(String(32))
    # SHA-256 of the mailed token: a database leak gives no usable link.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email: Mapped[str | None] = mapped_column(String(254))

    __table_args__ = (
        Index("ix_one_time_tokens_user_id_purpose", "user_id", "purpose"),
        Index("ix_one_time_tokens_expires_at", "expires_at"),
    )
