"""Accounts."""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Index, String, func, true
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

ROLE_USER = "user"
ROLE_ADMIN = "admin"
ROLES = (ROLE_USER, ROLE_ADMIN)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(128))
    profile_picture: Mapped[str | None] = mapped_column(String(2048))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_active: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    role: Mapped[str] = mapped_column(
        String(16), default=ROLE_USER, server_default=ROLE_USER
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when a TOTP authenticator is confirmed; login then asks for a second factor.
    mfa_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The owner asked to delete the account (ACCOUNT_DELETION_GRACE_DAYS): signing in
    # restores it, `flask auth purge` deletes it. Not an operator's deactivation.
    deletion_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Emails are stored normalised; the database refuses two that differ by case.
    __table_args__ = (Index("uq_users_email_lower", func.lower(email), unique=True),)

    @property
    def email_verified(self):
        return self.email_verified_at is not None

    @property
    def deletion_pending(self):
        return self.deletion_requested_at is not None

    @property
    def mfa_enabled(self):
        return self.mfa_enabled_at is not None
