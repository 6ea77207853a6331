"""JWTs: minting access and refresh tokens, and the per-request session check."""

import secrets
import uuid
from dataclasses import dataclass

from flask import current_app, g
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import select

from app import clock
from app.errors import AccountDisabled, TokenInvalid, TokenRevoked
from app.extensions import db
from app.models import User, UserSession
from app.models.session import TRANSPORT_COOKIE


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    transport: str


def new_jti():
    return uuid.uuid4().hex


def issue_tokens(user_session):
    """A new access token and the session's current refresh token (by its jti)."""
    claims = {"sid": str(user_session.id)}
    subject = str(user_session.user_id)
    access_token = create_access_token(identity=subject, additional_claims=claims)
    remaining = user_session.expires_at - clock.now()
    refresh_claims = {**claims, "jti": user_session.refresh_jti}
    if user_session.transport == TRANSPORT_COOKIE:
        # Double-submit value the SPA echoes in X-CSRF-TOKEN; bound to this token.
        refresh_claims["csrf"] = secrets.token_urlsafe(32)
    refresh_token = create_refresh_token(
        identity=subject, expires_delta=remaining, additional_claims=refresh_claims
    )
    return IssuedTokens(
        access_token=access_token,
        expires_in=current_app.config["ACCESS_TOKEN_TTL"],
        refresh_token=refresh_token,
        refresh_expires_in=max(int(remaining.total_seconds()), 0),
        transport=user_session.transport,
    )


def session_id_of(claims):
    """The session id a token names, or 401 token_invalid."""
    try:
        return uuid.UUID(str(claims["sid"]))
    except (KeyError, ValueError):
        raise TokenInvalid() from None


def load_principal(claims):
    """Check an access token's session and user with one query; cache them on `g`."""
    session_id = session_id_of(claims)
    row = db.session.execute(
        select(User, UserSession.revoked_at, UserSession.expires_at)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.id == session_id)
    ).first()
    if row is None or str(row.User.id) != claims.get("sub"):
        raise TokenRevoked()
    # Before the session check: deactivation also revokes the sessions, and the
    # client should learn the account is disabled, not merely that it was logged out.
    if not row.User.is_active:
        raise AccountDisabled()
    if row.revoked_at is not None or row.expires_at <= clock.now():
        raise TokenRevoked()
    g.current_user = row.User
    g.current_session_id = session_id


def register_jwt_callbacks(jwt):
    """Every access token is checked against its session on every request."""

    @jwt.token_in_blocklist_loader
    def _session_is_gone(header, payload):
        if payload.get("type") == "access":
            load_principal(payload)
        return False

    @jwt.user_lookup_loader
    def _current_user(header, payload):
        return g.get("current_user")
