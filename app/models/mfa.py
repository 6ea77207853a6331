"""Second factors: a TOTP credential per user, its recovery codes, login challenges."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class TotpCredential(db.Model):
    """A user's authenticator secret: pending until confirmed with a code."""

    __tablename__ = "mfa_totp"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # AES-GCM under a key derived from SECRET_KEY; `key_id` names that key.
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary(128))
    key_id: Mapped[str] = mapped_column(String(32))
    # The time step of the last accepted code: no code is accepted twice.
    last_used_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RecoveryCode(db.Model):
    __tablename__ = "mfa_recovery_codes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE")
    )
    # SHA-256 of an 80-bit random code: only the hash is stored.
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_mfa_recovery_codes_user_id_code_hash", "user_id", "code_hash"),
    )


class MfaChallenge(db.Model):
    """One login attempt waiting for its second factor (the mfaToken's jti)."""

    __tablename__ = "mfa_challenges"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE")
    )
    transport: Mapped[str] = mapped_column(String(10))
    device_id: Mapped[str] = mapped_column(String(64))
    new_device: Mapped[bool] = mapped_column(default=False)
    # The session's amr before the second factor: "pwd", or "fed" (a provider).
    first_factor: Mapped[str] = mapped_column(
        String(16), default="pwd", server_default="pwd"
    )
    failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    spent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_mfa_challenges_expires_at", "expires_at"),)
