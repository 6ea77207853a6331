"""What travels between authorize and callback: the signed state cookie, return URLs.

The flow (provider, state, nonce, PKCE verifier, where to return, the app's own
PKCE challenge, the account to link) is signed with SECRET_KEY into one HttpOnly
cookie with `SameSite=Lax` (the callback is a cross-site navigation from the
provider, on which a Strict cookie is not sent) and a lifetime of OAUTH_STATE_TTL,
on the oauth path only. The callback compares the provider's `state` with it.
"""

import hashlib
import hmac
from dataclasses import asdict, dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

from app.errors import RedirectUriInvalid, ReturnToInvalid, StateInvalid, TokenInvalid

STATE_COOKIE = "oauth_state"
STATE_COOKIE_PATH = "/api/v1/auth/oauth"
STATE_SALT = "auth-server/oauth-state/v1"
LINK_SALT = "auth-server/oauth-link/v1"
# A link URL is used at once by the user who asked for it.
LINK_TOKEN_TTL = 120
MODE_COOKIE = "cookie"
MODE_BEARER = "bearer"


@dataclass(frozen=True)
class Flow:
    provider: str
    state: str
    nonce: str | None
    code_verifier: str
    return_to: str
    mode: str
    app_challenge: str | None = None
    link_user_id: str | None = None


def serializer(salt):
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def seal_flow(flow):
    return serializer(STATE_SALT).dumps(asdict(flow))


def open_flow(sealed, *, provider, state):
    """The flow of the state cookie, if it is ours, fresh and matches `state`."""
    if not sealed or not state or len(sealed) > 4096:
        raise StateInvalid()
    try:
        data = serializer(STATE_SALT).loads(
            sealed, max_age=current_app.config["OAUTH_STATE_TTL"]
        )
        flow = Flow(**data)
    except (BadData, TypeError):
        raise StateInvalid() from None
    if flow.provider != provider or not hmac.compare_digest(
        flow.state.encode(), state.encode("utf-8", "replace")
    ):
        raise StateInvalid()
    return flow


def state_hash(state):
    return hashlib.sha256(state.encode()).hexdigest()


def set_state_cookie(response, sealed):
    config = current_app.config
    response.set_cookie(
        STATE_COOKIE,
        sealed,
        max_age=config["OAUTH_STATE_TTL"],
        path=STATE_COOKIE_PATH,
        httponly=True,
        secure=config["COOKIE_SECURE"],
        samesite="Lax",
        domain=config["COOKIE_DOMAIN"],
    )
    return response


def clear_state_cookie(response):
    config = current_app.config
    response.delete_cookie(
        STATE_COOKIE,
        path=STATE_COOKIE_PATH,
        httponly=True,
        secure=config["COOKIE_SECURE"],
        samesite="Lax",
        domain=config["COOKIE_DOMAIN"],
    )
    return response


def frontend_origin():
    parts = urlsplit(current_app.config["FRONTEND_URL"])
    return parts.scheme, parts.netloc


def default_return_to():
    return current_app.config["FRONTEND_URL"] + "/"


def checked_return_to(value):
    """An absolute URL on FRONTEND_URL's origin (a path is taken relative to it)."""
    if value is None or value == "":
        return default_return_to()
    if (
        len(value) > 2048
        or "\\" in value
        or any(ord(char) < 0x21 or ord(char) == 0x7F for char in value)
    ):
        raise ReturnToInvalid()
    if value.startswith("/") and not value.startswith("//"):
        value = current_app.config["FRONTEND_URL"] + value
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ReturnToInvalid() from None
    if (parts.scheme, parts.netloc) != frontend_origin() or parts.username:
        raise ReturnToInvalid()
    return value


def checked_app_redirect(value):
    """One of OAUTH_APP_REDIRECTS, exactly."""
    if value not in current_app.config["OAUTH_APP_REDIRECTS"]:
        raise RedirectUriInvalid()
    return value


def with_query(url, **params):
    """`url` with `params` added to its query (an existing one is kept)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(key, value) for key, value in params.items() if value is not None]
    return urlunsplit(
        (parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment)
    )


def mint_link_token(*, user_id):
    return serializer(LINK_SALT).dumps({"user": str(user_id)})


def read_link_token(token):
    """The user id of a link token; 401 token_invalid when forged or stale."""
    try:
        data = serializer(LINK_SALT).loads(token, max_age=LINK_TOKEN_TTL)
        return str(data["user"])
    except (BadData, TypeError, KeyError):
        raise TokenInvalid("The link token is invalid or expired.") from None
