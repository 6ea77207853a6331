"""Sign-in with an external provider: linked identities, login codes, spent states."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class Identity(db.Model):
    """An account at a provider (its `sub`) that signs in to one of our users."""

    __tablename__ = "identities"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE")
    )
    provider: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    # The provider's email when last seen (for the list; never used to sign in).
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("provider", "subject", name="uq_identities_provider_subject"),
        # One identity per provider per user: DELETE .../identities/<provider> names it.
        UniqueConstraint("user_id", "provider", name="uq_identities_user_provider"),
    )


class LoginCode(db.Model):
    """The one-time code a provider sign-in hands the client, exchanged for a login.

    Only its SHA-256 is stored; bearer (app) codes are bound to the app's PKCE
    challenge.
    """

    __tablename__ = "oauth_login_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE")
    )
    provider: Mapped[str] = mapped_column(String(64))
    transport: Mapped[str] = mapped_column(String(10))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_oauth_login_codes_expires_at", "expires_at"),)


class SpentState(db.Model):
    """A `state` whose callback ran: a replayed callback finds it and is refused."""

    __tablename__ = "oauth_spent_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_oauth_spent_states_expires_at", "expires_at"),)
