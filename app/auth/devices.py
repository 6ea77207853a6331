"""Device tokens: "this device signed in to this account before" (OWASP device cookies).

Every successful login or registration hands the client a device token: a JWT of its
own type (`typ: dt+jwt`), HS256 on a key derived from SECRET_KEY that is never
published, naming the account (`sub`, the user id) and the device (`did`), and bound to
the account's email (`acc`, an HMAC of it). Browsers keep it in the HttpOnly
`device_token` cookie; bearer clients get `deviceToken` in the answer and send it back
in the login body. A login presenting a valid one for the account it tries is counted
per device instead of per account (app/ratelimit.py), so that anonymous guessing cannot
lock the owner out. A login keeps the device id of the token it presented.
"""

import base64
import hmac
import time
import uuid
from dataclasses import dataclass

import jwt as pyjwt
from flask import current_app, request

from app.auth.tokens import CODEC, derive_secret, read_header
from app.errors import TokenInvalid

DEVICE_TOKEN_TYPE = "dt+jwt"
DEVICE_ALGORITHM = "HS256"
DEVICE_KEY_LABEL = b"auth-server/device-token/v1"
DEVICE_CLAIMS = ("iss", "aud", "sub", "did", "acc", "iat", "exp")
DEVICE_COOKIE = "device_token"
# The login and password-change bodies' field (bearer clients).
DEVICE_FIELD = "deviceToken"
DAY = 86400


@dataclass(frozen=True)
class Device:
    id: str
    user_id: str


def register_device_key(app):
    """The device-token key, derived once from SECRET_KEY at start-up."""
    secret_key = app.config.get("SECRET_KEY")
    key = derive_secret(secret_key, DEVICE_KEY_LABEL) if secret_key else None
    app.extensions["device_key"] = key


def device_key():
    return current_app.extensions["device_key"]


def account_binding(email):
    """An HMAC of the normalised email: ties a token to one account, reveals nothing."""
    message = email.strip().lower().encode("utf-8", "surrogatepass")
    digest = hmac.new(device_key(), message, "sha256").digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def device_ttl():
    return current_app.config["DEVICE_TOKEN_TTL_DAYS"] * DAY


def mint_device_token(*, user, device_id):
    issuer = current_app.config["JWT_ISSUER"]
    issued_at = int(time.time())
    claims = {
        "iss": issuer,
        "aud": issuer,
        "sub": str(user.id),
        "did": device_id,
        "acc": account_binding(user.email),
        "iat": issued_at,
        "exp": issued_at + device_ttl(),
    }
    headers = {"typ": DEVICE_TOKEN_TYPE}
    return CODEC.encode(
        claims, device_key(), algorithm=DEVICE_ALGORITHM, headers=headers
    )


def read_device_token(encoded, *, email, user_id=None):
    """The device of an authentic, unexpired token bound to `email` (and `user_id`).

    None for anything else: a forged, expired, foreign or malformed token is simply
    not a known device, never an error.
    """
    try:
        header = read_header(encoded)
    except TokenInvalid:
        return None
    if header.get("typ") != DEVICE_TOKEN_TYPE or not email:
        return None
    issuer = current_app.config["JWT_ISSUER"]
    try:
        claims = CODEC.decode(
            encoded,
            device_key(),
            algorithms=[DEVICE_ALGORITHM],
            audience=issuer,
            issuer=issuer,
            options={"require": list(DEVICE_CLAIMS)},
        )
    except (pyjwt.PyJWTError, ValueError, TypeError, RecursionError):
        return None
    subject, device_id, binding = claims["sub"], claims["did"], claims["acc"]
    if not all(isinstance(value, str) for value in (subject, device_id, binding)):
        return None
    if not hmac.compare_digest(binding, account_binding(email)):
        return None
    if user_id is not None and subject != str(user_id):
        return None
    return Device(id=device_id, user_id=subject)


def presented_device_token(field=None):
    """The device token of this request: the body's `deviceToken`, else the cookie."""
    if isinstance(field, str) and field:
        return field
    return request.cookies.get(DEVICE_COOKIE) or None


def new_device_id():
    return uuid.uuid4().hex


def device_of_login(*, user, presented):
    """(device id, is new) of a successful login: the presented token's, else new."""
    device = read_device_token(presented, email=user.email, user_id=user.id)
    if device is None:
        return new_device_id(), True
    return device.id, False
