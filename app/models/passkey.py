"""Passkeys (WebAuthn credentials) and the single-use challenges of their ceremonies."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

# The WebAuthn limit of a credential id.
MAX_CREDENTIAL_ID_BYTES = 1023
CHALLENGE_REGISTER = "register"
CHALLENGE_LOGIN = "login"
CHALLENGE_MFA = "mfa"


class Passkey(db.Model):
    """A user's public-key credential: what a passkey sign-in is verified against."""

    __tablename__ = "passkeys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE")
    )
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(MAX_CREDENTIAL_ID_BYTES))
    # The COSE public key as the authenticator sent it.
    public_key: Mapped[bytes] = mapped_column(LargeBinary(1024))
    # The authenticator's counter (32 bits unsigned); 0 for authenticators without.
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    transports: Mapped[str] = mapped_column(String(128), default="")
    aaguid: Mapped[str] = mapped_column(String(36))
    backup_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    backed_up: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("uq_passkeys_credential_id", "credential_id", unique=True),
        Index("ix_passkeys_user_id", "user_id"),
    )


class PasskeyChallenge(db.Model):
    """One ceremony's challenge: 5 minutes, spent once, bound to who asked for it.

    Registration: the user and the session. Passwordless sign-in: nobody. The
    second factor of a login: the user and the login's mfaToken (its jti).
    """

    __tablename__ = "passkey_challenges"

    # SHA-256 (hex) of the random challenge: the row is found by what the browser
    # signed, and the table holds nothing a client could answer with.
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE")
    )
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE")
    )
    mfa_jti: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    spent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_passkey_challenges_expires_at", "expires_at"),)
