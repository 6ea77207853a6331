"""How tokens travel: cookie (browser SPAs) or bearer (mobile and server clients)."""

import re
from dataclasses import dataclass

from flask import request

from app.auth.cookies import REFRESH_COOKIE, clear_session_cookies, set_session_cookies
from app.auth.csrf import check_csrf
from app.auth.tokens import (
    ACCESS_TOKEN_TYPE,
    REFRESH_TOKEN_TYPE,
    session_id_of,
    verify_token,
)
from app.errors import TokenInvalid, TokenMissing, ValidationFailed, success
from app.http import read_json_object
from app.models.session import TRANSPORT_BEARER, TRANSPORT_COOKIE
from app.schemas.auth import RefreshBodySchema

AUTH_MODE_HEADER = "X-Auth-Mode"
AUTH_FIELD_SEPARATOR = re.compile(r",\s*")
# Built once: a schema instance holds no per-call state.
REFRESH_BODY_SCHEMA = RefreshBodySchema()
REFRESH_ONLY = frozenset({REFRESH_TOKEN_TYPE})


@dataclass(frozen=True)
class PresentedToken:
    claims: dict
    transport: str


def requested_transport():
    """The transport a new session uses: `X-Auth-Mode: bearer`, else cookie."""
    mode = request.headers.get(AUTH_MODE_HEADER, TRANSPORT_COOKIE).strip().lower()
    if mode not in {TRANSPORT_COOKIE, TRANSPORT_BEARER}:
        raise ValidationFailed(
            details={AUTH_MODE_HEADER: ["Must be cookie or bearer."]}
        )
    return mode


def bearer_token():
    """The token of `Authorization: Bearer <token>` (RFC 6750).

    No header, no Bearer field or several is 401 token_missing; a Bearer field that
    is not exactly two words 401 token_invalid.
    """
    header = request.headers.get("Authorization", "").strip().strip(",")
    fields = [
        field
        for field in AUTH_FIELD_SEPARATOR.split(header)
        # RFC 7235: the scheme name is case-insensitive.
        if field.split()[:1] and field.split()[0].lower() == "bearer"
    ]
    if len(fields) != 1:
        raise TokenMissing()
    parts = fields[0].split()
    if len(parts) != 2:
        raise TokenInvalid("Bad Authorization header.")
    return parts[1]


def read_presented_token(*, allow_access=False, allow_expired=False):
    """The refresh token of this request (header, body or cookie), verified.

    A cookie-carried token needs the X-CSRF-TOKEN header matching its session's value:
    the cookie alone proves nothing, since the browser sends it anyway.
    """
    # The body is checked even when a header carries the token: bad input is a 400,
    # never silently ignored.
    body = REFRESH_BODY_SCHEMA.load(read_json_object(optional=True))
    kinds = {REFRESH_TOKEN_TYPE, ACCESS_TOKEN_TYPE} if allow_access else REFRESH_ONLY
    if request.headers.get("Authorization") is not None:
        encoded, transport = bearer_token(), TRANSPORT_BEARER
    elif "refresh_token" in body:
        encoded, transport = body["refresh_token"], TRANSPORT_BEARER
    elif request.cookies.get(REFRESH_COOKIE):
        encoded, transport = request.cookies[REFRESH_COOKIE], TRANSPORT_COOKIE
    else:
        raise TokenMissing("A refresh token is required.")
    claims = verify_token(encoded, kinds=kinds, allow_expired=allow_expired).claims
    if transport == TRANSPORT_COOKIE:
        check_csrf(session_id_of(claims))
    return PresentedToken(claims=claims, transport=transport)


def token_body(issued):
    """The token fields of a response body, per the session's transport."""
    data = {
        "accessToken": issued.access_token,
        "tokenType": "Bearer",
        "expiresIn": issued.expires_in,
    }
    if issued.transport == TRANSPORT_BEARER:
        data["refreshToken"] = issued.refresh_token
        data["refreshExpiresIn"] = issued.refresh_expires_in
        if issued.device_token:
            data["deviceToken"] = issued.device_token
    return data


def token_response(issued, data, status=200):
    """Envelope with tokens: access in body and header, refresh per transport."""
    response = success(
        {**data, **token_body(issued)},
        status,
        headers={"Authorization": f"Bearer {issued.access_token}"},
    )
    if issued.transport == TRANSPORT_COOKIE:
        set_session_cookies(response, issued)
    return response


def clear_cookies(response):
    """Expire the refresh and CSRF cookies (cookie clients only)."""
    if request.headers.get(AUTH_MODE_HEADER, "").strip().lower() != TRANSPORT_BEARER:
        clear_session_cookies(response)
    return response
