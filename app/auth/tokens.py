"""JWTs: minting access and refresh tokens, and the per-request session check."""

import base64
import binascii
import hashlib
import hmac
import json
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache, wraps

import jwt as pyjwt
from flask import current_app, g, request
from flask_jwt_extended import create_access_token, create_refresh_token
from flask_jwt_extended.config import config as jwt_config
from flask_jwt_extended.exceptions import (
    InvalidHeaderError,
    NoAuthorizationError,
    WrongTokenError,
)
from flask_jwt_extended.internal_utils import get_jwt_manager
from flask_jwt_extended.tokens import _decode_jwt
from jwt.algorithms import HMACAlgorithm
from sqlalchemy import bindparam, select
from sqlalchemy.orm import make_transient_to_detached

from app import clock
from app.errors import AccountDisabled, TokenInvalid, TokenRevoked
from app.extensions import db
from app.models import User, UserSession
from app.models.session import TRANSPORT_COOKIE

USERS = User.__table__
SESSIONS = UserSession.__table__
AUTH_FIELD_SEPARATOR = re.compile(r",\s*")
USER_CLASS_MANAGER = User.__mapper__.class_manager
# (attribute, column) of every User column: the principal query loads the whole row.
USER_FIELDS = tuple(
    (prop.key, prop.columns[0]) for prop in User.__mapper__.column_attrs
)
# Built once: SQLAlchemy memoises a statement's cache key on the object, so reusing
# it skips rebuilding and re-keying the query on every request. Nothing about the
# session is cached: the row is read again on every request (revocation is immediate).
PRINCIPAL_QUERY = (
    select(
        *(column for _, column in USER_FIELDS),
        SESSIONS.c.revoked_at.label("session_revoked_at"),
        SESSIONS.c.expires_at.label("session_expires_at"),
    )
    .select_from(SESSIONS.join(USERS, USERS.c.id == SESSIONS.c.user_id))
    .where(SESSIONS.c.id == bindparam("session_id"))
)


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    transport: str


def new_jti():
    return uuid.uuid4().hex


def session_csrf_value(session_id):
    """The double-submit value the SPA echoes in X-CSRF-TOKEN: one per session.

    Constant across rotations, so a tab that read the CSRF cookie just before another
    tab's refresh replaced the refresh cookie still sends a matching pair. Derived
    with HMAC from the session id, so it needs no storage and cannot be guessed.
    """
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    digest = hmac.new(key, b"csrf:" + session_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def issue_tokens(user_session):
    """A new access token and the session's current refresh token (by its jti)."""
    claims = {"sid": str(user_session.id)}
    subject = str(user_session.user_id)
    access_token = create_access_token(identity=subject, additional_claims=claims)
    remaining = user_session.expires_at - clock.now()
    refresh_claims = {**claims, "jti": user_session.refresh_jti}
    if user_session.transport == TRANSPORT_COOKIE:
        refresh_claims["csrf"] = session_csrf_value(user_session.id)
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
    """Check an access token's session and user with one query; cache them on `g`.

    One indexed lookup by session id, as a Core statement (no ORM row loading); the
    user row it returns becomes a persistent `User` of the request's session without
    a second query, so routes can change and commit it.
    """
    session_id = session_id_of(claims)
    with db.engine.connect() as connection:
        row = connection.execute(PRINCIPAL_QUERY, {"session_id": session_id}).first()
    if row is None or str(row.id) != claims.get("sub"):
        raise TokenRevoked()
    # Before the session check: deactivation also revokes the sessions, and the
    # client should learn the account is disabled, not merely that it was logged out.
    if not row.is_active:
        raise AccountDisabled()
    if row.session_revoked_at is not None or row.session_expires_at <= clock.now():
        raise TokenRevoked()
    g.current_user = _attached_user(row)
    g.current_session_id = session_id


def _attached_user(row):
    """The row as a persistent User of db.session (the one already there, if any)."""
    session = db.session()
    key = User.__mapper__.identity_key_from_primary_key((row.id,))
    existing = session.identity_map.get(key)
    if existing is not None:
        return existing
    # As a query loads a row: the values go straight into the instance (no change
    # events), then it counts as loaded with its primary key as identity.
    user = USER_CLASS_MANAGER.new_instance()
    user.__dict__.update(
        (name, row[index]) for index, (name, _) in enumerate(USER_FIELDS)
    )
    make_transient_to_detached(user)
    session.add(user)
    return user


class PreparedKeyHMAC(HMACAlgorithm):
    """HMAC whose key check runs once per key, not on every sign and verify.

    PyJWT's `prepare_key` refuses PEM, SSH and DER keys as HMAC secrets by trying to
    parse the key each time (tens of microseconds per token); the answer only depends
    on the key, which is the server's own secret.
    """

    @lru_cache(maxsize=16)  # noqa: B019 (three instances for the life of the process)
    def prepare_key(self, key):
        return super().prepare_key(key)


def use_prepared_hmac_keys():
    for name, digest in (
        ("HS256", HMACAlgorithm.SHA256),
        ("HS384", HMACAlgorithm.SHA384),
        ("HS512", HMACAlgorithm.SHA512),
    ):
        if not isinstance(pyjwt.get_algorithm_by_name(name), PreparedKeyHMAC):
            pyjwt.unregister_algorithm(name)
            pyjwt.register_algorithm(name, PreparedKeyHMAC(digest))


def unverified_header(encoded_token):
    """The JOSE header of a token, read only to pick the verification key."""
    try:
        segment = encoded_token.split(".", 1)[0]
        header = json.loads(
            base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        )
    except (ValueError, TypeError, AttributeError, binascii.Error):
        raise pyjwt.DecodeError("Invalid header") from None
    if not isinstance(header, dict):
        raise pyjwt.DecodeError("Invalid header")
    return header


def verify_token(encoded_token, *, csrf_value=None, allow_expired=False):
    """(header, claims) of a token, verified as flask-jwt-extended verifies it.

    The extension's own `_decode_jwt_from_config` parses every token three times
    (unverified claims, unverified header, then verified) before its key loader
    runs. Here the key is picked from the header alone (the loader reads only `kid`
    and `alg`), and PyJWT checks signature, algorithm, expiry and issuer once,
    through the extension's own `_decode_jwt`.
    """
    header = unverified_header(encoded_token)
    options = {
        "algorithms": jwt_config.decode_algorithms,
        "audience": jwt_config.decode_audience,
        "csrf_value": csrf_value,
        "encoded_token": encoded_token,
        "identity_claim_key": jwt_config.identity_claim_key,
        "issuer": jwt_config.decode_issuer,
        "leeway": jwt_config.leeway,
        "secret": get_jwt_manager()._decode_key_callback(header, {}),
        "verify_aud": jwt_config.decode_audience is not None,
        "verify_sub": jwt_config.verify_sub,
    }
    try:
        return header, _decode_jwt(**options, allow_expired=allow_expired)
    except pyjwt.ExpiredSignatureError as error:
        # What the extension attaches for its expired-token loader.
        error.jwt_header = header
        error.jwt_data = _decode_jwt(**options, allow_expired=True)
        raise


def _decode_jwt_from_config(encoded_token, csrf_value=None, allow_expired=False):
    return verify_token(
        encoded_token, csrf_value=csrf_value, allow_expired=allow_expired
    )[1]


def bearer_access_token():
    """The token of `Authorization: Bearer <token>`, read as flask-jwt-extended does.

    Its exceptions, so its error handlers answer: none or no Bearer field is 401
    token_missing, a Bearer field that is not exactly two words 401 token_invalid.
    """
    header = request.headers.get("Authorization", "").strip().strip(",")
    if not header:
        raise NoAuthorizationError("Missing Authorization Header")
    fields = [
        field
        for field in AUTH_FIELD_SEPARATOR.split(header)
        if field.split()[:1] == ["Bearer"]
    ]
    if len(fields) != 1:
        raise NoAuthorizationError("Missing 'Bearer' type in 'Authorization' header.")
    parts = fields[0].split()
    if len(parts) != 2:
        raise InvalidHeaderError("Bad Authorization header.")
    return parts[1]


def verify_access_token():
    """What `@jwt_required()` checks, for access tokens in the header, in one pass."""
    if request.method in jwt_config.exempt_methods:
        return
    header, claims = verify_token(bearer_access_token())
    if claims["type"] == "refresh":
        raise WrongTokenError("Only non-refresh tokens are allowed")
    load_principal(claims)
    # Where the extension keeps them, so get_jwt() and current_user keep working.
    g._jwt_extended_jwt_user = {"loaded_user": g.current_user}
    g._jwt_extended_jwt_header = header
    g._jwt_extended_jwt = claims
    g._jwt_extended_jwt_location = "headers"


def access_token_required(view):
    """Like `@jwt_required()`: a valid access token of a live session, else 401/403."""

    @wraps(view)
    def checked(*args, **kwargs):
        verify_access_token()
        return view(*args, **kwargs)

    return checked


def register_jwt_callbacks(jwt):
    """Every access token is checked against its session on every request."""
    use_prepared_hmac_keys()
    # flask-jwt-extended's decode_token() (refresh tokens, logout) verifies once too.
    jwt._decode_jwt_from_config = _decode_jwt_from_config

    @jwt.token_in_blocklist_loader
    def _session_is_gone(header, payload):
        if payload.get("type") == "access":
            load_principal(payload)
        return False

    @jwt.user_lookup_loader
    def _current_user(header, payload):
        return g.get("current_user")
