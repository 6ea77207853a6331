"""How tokens travel: cookie (browser SPAs) or bearer (mobile and server clients)."""

from dataclasses import dataclass

from flask import request
from flask_jwt_extended import decode_token, set_refresh_cookies, unset_refresh_cookies
from flask_jwt_extended.exceptions import CSRFError

from app.auth.tokens import bearer_access_token
from app.errors import CSRFFailed, TokenInvalid, TokenMissing, ValidationFailed, success
from app.http import read_json_object
from app.models.session import TRANSPORT_BEARER, TRANSPORT_COOKIE
from app.schemas.auth import RefreshBodySchema

AUTH_MODE_HEADER = "X-Auth-Mode"
REFRESH_COOKIE = "refresh_token"
CSRF_HEADER = "X-CSRF-TOKEN"
# Built once: a schema instance holds no per-call state.
REFRESH_BODY_SCHEMA = RefreshBodySchema()


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


def bearer_value():
    """The token of an `Authorization: Bearer` header, None when no header is sent."""
    if request.headers.get("Authorization") is None:
        return None
    return bearer_access_token()


def _decode(encoded, *, allow_expired=False, csrf_value=None):
    try:
        return decode_token(encoded, csrf_value=csrf_value, allow_expired=allow_expired)
    except CSRFError:
        raise CSRFFailed() from None


def read_presented_token(*, allow_access=False, allow_expired=False):
    """The refresh token of this request (header, body or cookie), decoded and checked.

    A cookie-carried token needs the X-CSRF-TOKEN header matching the value bound into
    that token: the cookie alone proves nothing, since the browser sends it anyway.
    """
    # The body is checked even when a header carries the token: bad input is a 400,
    # never silently ignored.
    body = REFRESH_BODY_SCHEMA.load(read_json_object(optional=True))
    header_token = bearer_value()
    if header_token is not None:
        claims = _decode(header_token, allow_expired=allow_expired)
        transport = TRANSPORT_BEARER
    else:
        if "refresh_token" in body:
            claims = _decode(body["refresh_token"], allow_expired=allow_expired)
            transport = TRANSPORT_BEARER
        elif request.cookies.get(REFRESH_COOKIE):
            csrf_value = request.headers.get(CSRF_HEADER)
            if not csrf_value:
                raise CSRFFailed()
            claims = _decode(
                request.cookies[REFRESH_COOKIE],
                allow_expired=allow_expired,
                csrf_value=csrf_value,
            )
            if "csrf" not in claims:
                raise CSRFFailed()
            transport = TRANSPORT_COOKIE
        else:
            raise TokenMissing("A refresh token is required.")
    allowed_types = {"refresh", "access"} if allow_access else {"refresh"}
    if claims.get("type") not in allowed_types:
        raise TokenInvalid("A refresh token is required.")
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
    return data


def token_response(issued, data, status=200):
    """Envelope with tokens: access in body and header, refresh per transport."""
    response = success(
        {**data, **token_body(issued)},
        status,
        headers={"Authorization": f"Bearer {issued.access_token}"},
    )
    if issued.transport == TRANSPORT_COOKIE:
        set_refresh_cookies(
            response, issued.refresh_token, max_age=issued.refresh_expires_in
        )
    return response


def clear_cookies(response):
    """Expire the refresh and CSRF cookies (cookie clients only)."""
    if request.headers.get(AUTH_MODE_HEADER, "").strip().lower() != TRANSPORT_BEARER:
        unset_refresh_cookies(response)
    return response
