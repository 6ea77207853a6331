"""One-time login codes: what a provider sign-in hands the SPA or app to exchange.

A code is 256 random bits, stored as its SHA-256, good for OAUTH_LOGIN_CODE_TTL
seconds and spent by one conditional UPDATE (exactly one of parallel exchanges
wins). A bearer (app) code is bound to the app's PKCE S256 challenge.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import current_app
from sqlalchemy import delete, update

from app import clock
from app.errors import CodeVerifierInvalid, LoginCodeInvalid
from app.extensions import db
from app.models import LoginCode, SpentState

MAX_CODE_LENGTH = 128


def code_hash(code):
    return hashlib.sha256(code.encode()).hexdigest()


def add_login_code(*, user, provider, transport, code_challenge):
    """A new code for `user` added to the transaction (the caller commits)."""
    code = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(
        LoginCode(
            code_hash=code_hash(code),
            user_id=user.id,
            provider=provider,
            transport=transport,
            code_challenge=code_challenge,
            created_at=now,
            expires_at=now
            + timedelta(seconds=current_app.config["OAUTH_LOGIN_CODE_TTL"]),
        )
    )
    return code


def spend_login_code(*, code, code_verifier):
    """Spend the code (in the caller's transaction); its row, or 401.

    A wrong verifier spends the code too: an intercepted code gets one try.
    """
    if not code or len(code) > MAX_CODE_LENGTH:
        raise LoginCodeInvalid()
    now = clock.now()
    hashed = code_hash(code)
    spent = db.session.execute(
        update(LoginCode)
        .where(
            LoginCode.code_hash == hashed,
            LoginCode.used_at.is_(None),
            LoginCode.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        db.session.rollback()
        raise LoginCodeInvalid()
    row = db.session.get(LoginCode, hashed)
    if row.code_challenge is not None and not verifier_matches(
        code_verifier, row.code_challenge
    ):
        db.session.commit()
        raise CodeVerifierInvalid()
    return row


def verifier_matches(code_verifier, code_challenge):
    if not isinstance(code_verifier, str) or not code_verifier:
        return False
    expected = create_s256_code_challenge(code_verifier)
    return hmac.compare_digest(expected.encode(), code_challenge.encode())


def purge_expired():
    """Delete expired login codes and spent states (both useless once expired)."""
    now = clock.now()
    codes = db.session.execute(delete(LoginCode).where(LoginCode.expires_at < now))
    states = db.session.execute(delete(SpentState).where(SpentState.expires_at < now))
    db.session.commit()
    return codes.rowcount + states.rowcount
