"""Brute-force limits (flask-limiter) per client IP and per account email.

Each limit reads its rate from config (`RATELIMIT_*`, see README) on every request.
Routes take one decorator: `@limit_login`, `@limit_register`, `@limit_refresh`,
`@limit_password_reset`. Nothing else is limited (no default limits).
"""

import hashlib
import hmac
import ipaddress
import time

from flask import current_app, g, request
from limits import parse_many
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from app import events
from app.errors import ApiError
from app.extensions import limiter
from app.http import client_ip, read_json_object

REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://")
# Exact under concurrency (one atomic Lua call on Redis) and no double burst at a
# window boundary, unlike fixed windows; the limits are small, so memory is cheap.
STRATEGY = "moving-window"
MAX_KEY_TEXT = 64
LIMIT_SETTINGS = (
    "RATELIMIT_LOGIN",
    "RATELIMIT_LOGIN_ACCOUNT",
    "RATELIMIT_REGISTER",
    "RATELIMIT_PASSWORD_RESET",
    "RATELIMIT_PASSWORD_RESET_IP",
    "RATELIMIT_REFRESH",
)
_UNSET = object()


def trust_proxies(app):
    """Take the client IP from the last TRUSTED_PROXY_COUNT X-Forwarded-For entries.

    With 0 (the default) X-Forwarded-* is ignored: a client cannot pick the IP it is
    counted under. X-Forwarded-Proto is taken from the nearest proxy only; Host,
    Port and Prefix are never trusted (links are built from FRONTEND_URL).
    """
    count = app.config["TRUSTED_PROXY_COUNT"]
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=1)


def ip_key():
    """The client IP; an IPv6 client by its /64, since one host owns the prefix."""
    address = client_ip()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"ip:{address[:MAX_KEY_TEXT] or 'unknown'}"
    if ip.version == 6:
        if ip.ipv4_mapped:
            return f"ip:{ip.ipv4_mapped}"
        return f"ip:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"ip:{ip}"


def account_email():
    """The body's email, trimmed and lower-cased as the schemas do; None if absent."""
    cached = g.get("_ratelimit_email", _UNSET)
    if cached is not _UNSET:
        return cached
    try:
        # get_data(cache=True) inside: the route reads the same bytes afterwards.
        body = read_json_object(optional=True)
    except (ApiError, HTTPException):
        body = {}  # the route answers this 4xx itself; the per-IP limit still counts
    email = body.get("email")
    email = email.strip().lower() if isinstance(email, str) else ""
    g._ratelimit_email = email or None
    return g._ratelimit_email


def account_digest(email):
    """A keyed hash of the email: counters and logs never hold the address itself."""
    secret = (current_app.config.get("SECRET_KEY") or "").encode()
    message = email.encode("utf-8", "surrogatepass")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def account_key():
    # Unknown emails are counted too: the limit must not tell which accounts exist.
    return f"account:{account_digest(account_email())}"


def no_account():
    return account_email() is None


def _rate(setting):
    return lambda: current_app.config[setting]


def _report(per):
    def on_breach(request_limit):
        fields = {"endpoint": request.endpoint, "limit": str(request_limit.limit)}
        fields.update(per=per, ip=client_ip())
        if per == "account":
            fields["account"] = account_digest(account_email())[:16]
        events.emit(events.RATE_LIMITED, **fields)

    return on_breach


def per_ip(setting):
    """A limit on the route, counted per client IP, at the rate config[setting]."""
    return limiter.limit(_rate(setting), key_func=ip_key, on_breach=_report("ip"))


def per_account(setting):
    """A limit counted per email of the JSON body (a body without one: not counted)."""
    return limiter.limit(
        _rate(setting),
        key_func=account_key,
        exempt_when=no_account,
        on_breach=_report("account"),
    )


def all_of(*route_limits):
    """One decorator applying several limits to a route."""

    def decorate(view):
        for route_limit in reversed(route_limits):
            view = route_limit(view)
        return view

    return decorate


limit_login = all_of(per_ip("RATELIMIT_LOGIN"), per_account("RATELIMIT_LOGIN_ACCOUNT"))
limit_register = per_ip("RATELIMIT_REGISTER")
limit_password_reset = all_of(
    per_account("RATELIMIT_PASSWORD_RESET"), per_ip("RATELIMIT_PASSWORD_RESET_IP")
)
limit_refresh = per_ip("RATELIMIT_REFRESH")


@limiter.request_filter
def _limits_off():
    # The limiter object is shared by every app of the process; an app built with
    # limits off is never limited, whatever app bound the limiter last.
    return not current_app.config.get("RATELIMIT_ENABLED")


def limiter_settings(config):
    """Our settings in flask-limiter's terms."""
    options = {}
    if config["RATELIMIT_STORAGE_URI"].startswith(REDIS_SCHEMES):
        timeout = config["RATELIMIT_STORAGE_TIMEOUT"]
        options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    return {
        "RATELIMIT_STRATEGY": STRATEGY,
        "RATELIMIT_STORAGE_OPTIONS": options,
        "RATELIMIT_HEADERS_ENABLED": True,
        # Storage down: count in this process's memory, never stop limiting.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": False,
    }


def _reset_limiter_state():
    # flask-limiter keeps per-app state on the one limiter object and only fills some
    # of it when unset; every app (tests build many) starts from a clean one.
    limiter._storage_dead = False
    limiter._storage_options = {}
    limiter._key_prefix = ""
    limiter._Limiter__check_backend_count = 0
    limiter._Limiter__last_check_backend = time.time()


def fix_retry_after(response):
    """Retry-After on 429 only, in whole seconds, at least 1."""
    if response.status_code == 429:
        value = response.headers.get("Retry-After", "")
        seconds = int(value) if value.isdigit() else 1
        response.headers["Retry-After"] = str(max(seconds, 1))
    elif response.status_code != 503:
        # flask-limiter sets it on every limited answer; it means nothing on a 200.
        response.headers.pop("Retry-After", None)
    return response


def check_limit_settings(config):
    """Refuse to start on a rate that does not parse (flask-limiter would skip it)."""
    for name in LIMIT_SETTINGS:
        try:
            parse_many(config[name])
        except ValueError:
            raise ValueError(
                f"{name}={config[name]!r} is not a rate limit "
                '(flask-limiter syntax, e.g. "10 per minute")'
            ) from None


def register_rate_limits(app):
    """Bind the limiter to the app with the RATELIMIT_* settings."""
    check_limit_settings(app.config)
    app.config.update(limiter_settings(app.config))
    if not app.config["RATELIMIT_ENABLED"]:
        limiter.init_app(app)  # marks the limiter off; binds nothing
        return
    # Registered before the limiter's own hook, so it runs after it (Flask reverses).
    app.after_request(fix_retry_after)
    _reset_limiter_state()
    limiter.init_app(app)
