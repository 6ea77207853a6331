"""Single-use mailed tokens (password reset, email verification).

The raw token (32 random bytes, URL-safe) only travels in the mail; the database keeps
its SHA-256, so a leaked table holds no usable link. Nothing here commits: the calling
service owns the transaction.
"""

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from app import clock
from app.database import read_session
from app.errors import AccountDisabled, TokenExpired, TokenInvalid
from app.extensions import db
from app.models import OneTimeToken, User

TOKEN_BYTES = 32
# token_urlsafe(32) gives 43 characters; anything far from that shape is not ours.
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
INVALID_MESSAGE = "This link is invalid or has already been used."
EXPIRED_MESSAGE = "This link has expired; ask for a new one."


def hash_token(raw):
    """The SHA-256 hex digest stored for a raw token."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue_token(*, user_id, purpose, ttl_seconds, email=None):
    """Create a token for the user and return the raw value (added, not committed).

    `email`: the address an email-change or revert token switches the account to.
    """
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    now = clock.now()
    db.session.add(
        OneTimeToken(
            user_id=user_id,
            purpose=purpose,
            token_hash=hash_token(raw),
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
            email=email,
        )
    )
    return raw


def void_tokens(*, user_id, purpose):
    """Mark the user's unused tokens of `purpose` as spent; returns how many."""
    result = db.session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user_id,
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def find_usable_token(session, *, raw, purpose):
    """The stored token for `raw`, else 401 token_invalid or token_expired."""
    if not TOKEN_SHAPE.match(raw):
        raise TokenInvalid(INVALID_MESSAGE)
    record = session.scalar(
        select(OneTimeToken).where(
            OneTimeToken.token_hash == hash_token(raw),
            OneTimeToken.purpose == purpose,
        )
    )
    if record is None or record.used_at is not None:
        raise TokenInvalid(INVALID_MESSAGE)
    if record.expires_at <= clock.now():
        raise TokenExpired(EXPIRED_MESSAGE)
    return record


def find_token_user(*, raw, purpose):
    """(token, user) for a mailed token; 401 when unusable, 403 when the user is off.

    Read on a read-only session (no write lock while the caller checks and hashes);
    both come back detached. `spend_token` decides, in the caller's transaction,
    whether the token is still unused.
    """
    with read_session() as session:
        record = find_usable_token(session, raw=raw, purpose=purpose)
        user = session.get(User, record.user_id)
    if user is None:
        raise TokenInvalid(INVALID_MESSAGE)
    if not user.is_active:
        raise AccountDisabled()
    return record, user


def spend_token(record):
    """Use the token once and void the user's other tokens of its purpose.

    The conditional UPDATE makes parallel confirms with one token race safely: only
    one of them finds the row still unused.
    """
    result = db.session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.id == record.id, OneTimeToken.used_at.is_(None))
        .values(used_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise TokenInvalid(INVALID_MESSAGE)
    void_tokens(user_id=record.user_id, purpose=record.purpose)
