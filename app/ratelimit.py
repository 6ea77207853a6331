"""Brute-force limits (flask-limiter), declared in one table: `LIMITS`.

Each entry names a Flask endpoint, what it counts per (the client IP; the account:
the body's normalised email, or the caller's on endpoints that take an access token;
or the device of a valid device token), its default rate and the setting
(same-named environment variable, see README) that overrides it. `failures_only`
entries count refused passwords only; entries with one `shared` name count in one
counter (so a wrong old password on /password/change is a failed login of that
account and IP). `register_rate_limits` builds one limiter per app and applies the
table to the views; routes carry no limit decorators. Nothing else is limited (no
default limits).
"""

import hashlib
import hmac
import ipaddress
import threading
from dataclasses import dataclass
from functools import wraps

from flask import current_app, request
from flask_limiter import Limiter
from limits import parse_many
from redis.backoff import NoBackoff
from redis.retry import Retry
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from app import events
from app.auth.devices import DEVICE_FIELD, presented_device_token, read_device_token
from app.auth.mfa_accounts import mfa_token_email
from app.auth.principal import access_token_required, authenticated_user
from app.auth.service_clients import request_client
from app.errors import (
    ERROR_CODE_KEY,
    ApiError,
    InvalidCredentials,
    InvalidMfaCode,
    TooManyAttempts,
)
from app.http import client_ip, once_per_request, read_json_object
from app.openapi.declare import ACCESS, declaration_of
from app.ratelimit_storage import failover_uri

PER_IP = "ip"
PER_ACCOUNT = "account"
PER_DEVICE = "device"
# Introspection: the authenticated service credential (else the client IP).
PER_CLIENT = "client"
REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://")
# Exact under concurrency (one atomic Lua call on Redis) and no double burst at a
# window boundary, unlike fixed windows; the limits are small, so memory is cheap.
STRATEGY = "moving-window"
MAX_KEY_TEXT = 64
# Both wrong-password answers (401 at login, 400 on /password/change) carry this code.
PASSWORD_REFUSED = InvalidCredentials.code
# Every wrong second factor (401 at /mfa/verify, 400 elsewhere) carries this code.
MFA_CODE_REFUSED = InvalidMfaCode.code


@dataclass(frozen=True)
class RateLimit:
    """One limit: on `endpoint`, counted per `key`, at config[setting] (or default)."""

    endpoint: str
    key: str  # PER_IP, PER_ACCOUNT, PER_DEVICE or PER_CLIENT
    setting: str
    default: str
    # Count only answers that refuse a password (checked before the view all the same),
    # or what `refused_code` names.
    failures_only: bool = False
    refused_code: str = PASSWORD_REFUSED
    # Entries of one name share one counter; they must share `setting` too.
    shared: str | None = None
    # PER_ACCOUNT: a request with a valid device token of the account skips it (the
    # PER_DEVICE entry counts it instead). PER_DEVICE entries count those only.
    known_devices_apart: bool = False


LOGIN_FAILURES = {"failures_only": True, "known_devices_apart": True}
# Wrong second factors of one account, wherever they are tried, in one counter.
MFA_FAILURES = {
    "failures_only": True,
    "refused_code": MFA_CODE_REFUSED,
    "shared": "mfa-account",
}
MFA_ACCOUNT_RATE = "5 per minute; 20 per hour"
MFA_CODE_ENDPOINTS = (
    "auth.mfa_verify",
    "auth.mfa_step_up",
    "auth.mfa_recovery_codes",
    "auth.mfa_totp_confirm",
    "auth.mfa_totp_disable",
)

# Endpoints that take the current password of a signed-in caller.
PASSWORD_CONFIRMED_ENDPOINTS = (
    "auth.change_password",
    "users.change_email",
    "users.delete_me",
)

LIMITS = (
    # Every login attempt per IP, and the wrong old passwords of /password/change.
    RateLimit(
        "auth.login", PER_IP, "RATELIMIT_LOGIN", "10 per minute", shared="login-ip"
    ),
    RateLimit(
        "auth.login",
        PER_ACCOUNT,
        "RATELIMIT_LOGIN_ACCOUNT",
        "5 per minute",
        shared="login-account",
        **LOGIN_FAILURES,
    ),
    RateLimit(
        "auth.login",
        PER_DEVICE,
        "RATELIMIT_LOGIN_DEVICE",
        "5 per minute",
        shared="login-device",
        **LOGIN_FAILURES,
    ),
    # A wrong current password on these is a failed login of the account and IP.
    *(
        limit
        for endpoint in PASSWORD_CONFIRMED_ENDPOINTS
        for limit in (
            RateLimit(
                endpoint,
                PER_IP,
                "RATELIMIT_LOGIN",
                "10 per minute",
                shared="login-ip",
                failures_only=True,
            ),
            RateLimit(
                endpoint,
                PER_ACCOUNT,
                "RATELIMIT_LOGIN_ACCOUNT",
                "5 per minute",
                shared="login-account",
                **LOGIN_FAILURES,
            ),
            RateLimit(
                endpoint,
                PER_DEVICE,
                "RATELIMIT_LOGIN_DEVICE",
                "5 per minute",
                shared="login-device",
                **LOGIN_FAILURES,
            ),
        )
    ),
    # Each request may mail the new address: an hourly cap per user.
    RateLimit(
        "users.change_email", PER_ACCOUNT, "RATELIMIT_EMAIL_CHANGE", "5 per hour"
    ),
    RateLimit(
        "auth.register",
        PER_IP,
        "RATELIMIT_REGISTER",
        "10 per hour",
        shared="register-ip",
    ),
    RateLimit(
        "auth.request_password_reset",
        PER_ACCOUNT,
        "RATELIMIT_PASSWORD_RESET",
        "5 per hour",
        shared="reset-account",
    ),
    RateLimit(
        "auth.request_password_reset",
        PER_IP,
        "RATELIMIT_PASSWORD_RESET_IP",
        "20 per hour",
        shared="reset-ip",
    ),
    # A cooldown and an hourly cap per user: each request may queue a mail.
    RateLimit(
        "auth.request_email_verification",
        PER_ACCOUNT,
        "RATELIMIT_EMAIL_VERIFY",
        "1 per minute; 5 per hour",
    ),
    RateLimit(
        "auth.request_email_verification",
        PER_IP,
        "RATELIMIT_EMAIL_VERIFY_IP",
        "20 per hour",
    ),
    # Asked for by address, without a token: per address and per client IP.
    RateLimit(
        "auth.resend_email_verification",
        PER_ACCOUNT,
        "RATELIMIT_EMAIL_VERIFY_RESEND",
        "1 per minute; 5 per hour",
    ),
    RateLimit(
        "auth.resend_email_verification",
        PER_IP,
        "RATELIMIT_EMAIL_VERIFY_RESEND_IP",
        "20 per hour",
    ),
    RateLimit(
        "auth.refresh_token",
        PER_IP,
        "RATELIMIT_REFRESH",
        "60 per minute",
        shared="refresh-ip",
    ),
    # Services: one call per request they serve, counted per service credential.
    RateLimit(
        "auth.introspect_token", PER_CLIENT, "RATELIMIT_INTROSPECT", "1200 per minute"
    ),
    # Verifiers long-poll it (one request per revocation or per wait): a flood of
    # it is cut here; answers are ETag-cacheable too.
    RateLimit(
        "revocations.revocations",
        PER_IP,
        "RATELIMIT_REVOCATION_FEED",
        "300 per minute",
    ),
    # Sign-in with a provider: each authorize starts a provider round trip, each
    # exchange tries a login code.
    RateLimit("oauth.authorize", PER_IP, "RATELIMIT_OAUTH_AUTHORIZE", "30 per minute"),
    RateLimit(
        "oauth.exchange_login_code", PER_IP, "RATELIMIT_OAUTH_TOKEN", "20 per minute"
    ),
    # The second step of a login: every attempt per IP; wrong codes per account
    # (the mfaToken's) with those of step-up, recovery codes, confirm and disable.
    RateLimit(
        "auth.mfa_verify",
        PER_IP,
        "RATELIMIT_MFA_IP",
        "20 per minute",
        shared="mfa-ip",
    ),
    *(
        RateLimit(
            endpoint,
            PER_ACCOUNT,
            "RATELIMIT_MFA_ACCOUNT",
            MFA_ACCOUNT_RATE,
            **MFA_FAILURES,
        )
        for endpoint in MFA_CODE_ENDPOINTS
    ),
    # Passwordless sign-in: its options (each stores a challenge) and its answers,
    # per IP in one counter; the passkey options of a login's second step with
    # that step's own attempts.
    *(
        RateLimit(
            endpoint,
            PER_IP,
            "RATELIMIT_PASSKEY_LOGIN",
            "20 per minute",
            shared="passkey-login-ip",
        )
        for endpoint in ("auth.passkey_login_options", "auth.passkey_login_verify")
    ),
    RateLimit(
        "auth.mfa_passkey_options",
        PER_IP,
        "RATELIMIT_MFA_IP",
        "20 per minute",
        shared="mfa-ip",
    ),
    # Enrolling and disabling check the password: failed logins of the account.
    *(
        RateLimit(
            endpoint,
            PER_ACCOUNT,
            "RATELIMIT_LOGIN_ACCOUNT",
            "5 per minute",
            shared="login-account",
            failures_only=True,
        )
        for endpoint in ("auth.mfa_totp_setup", "auth.mfa_totp_disable")
    ),
)


# The compatibility profiles' endpoints (app/compat) are limited by the entries of
# the /api/v1 endpoint they stand for, in the same counters (every such entry has a
# `shared` name): a profile is no way around a limit.
SAME_LIMITS_AS = {
    "compat_chirpy.chirpy_create_user": "auth.register",
    "compat_chirpy.chirpy_login": "auth.login",
    "compat_chirpy.chirpy_refresh": "auth.refresh_token",
    "compat_fastapi_mock.mock_register": "auth.register",
    "compat_fastapi_mock.mock_login": "auth.login",
    "compat_fastapi_mock.mock_refresh": "auth.refresh_token",
    "compat_oauth2.oauth2_register": "auth.register",
    "compat_oauth2.oauth2_jwt_create": "auth.login",
    "compat_oauth2.oauth2_token": "auth.login",
    "compat_oauth2.oauth2_refresh": "auth.refresh_token",
    "compat_oauth2.oauth2_password_reset": "auth.request_password_reset",
    "compat_oauth2.oauth2_password_change": "auth.change_password",
}


class AttemptSeats:
    """One password attempt per account (or known device) at a time, per process.

    A failure is counted when its answer is known, so parallel guesses would all pass
    the failure limit's check before the first one counts. While one attempt for a
    key is in flight, another for the same key is refused at once (429, Retry-After):
    each attempt checks the limit after the one before it counted, so across W
    processes at most W - 1 guesses get beyond the limit, and no thread waits here
    (waiting logins would take the threads that serve cheap requests). Successes
    still count nothing.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.seats = {}  # key -> True while an attempt for it is in flight

    def take(self, key):
        with self.lock:
            if key in self.seats:
                return False
            self.seats[key] = True
            return True

    def leave(self, key):
        with self.lock:
            self.seats.pop(key, None)


SEAT_ENVIRON_KEY = "app.ratelimit.attempt_seat"


def attempt_key():
    if known_device() is not None:
        return device_key()
    return None if no_account() else account_key()


def one_attempt_at_a_time(seats, view):
    """Wrap a view whose failures count per account: see AttemptSeats."""

    @wraps(view)
    def seated(*args, **kwargs):
        key = attempt_key()
        if key is not None:
            if not seats.take(key):
                raise TooManyAttempts()
            # Held until the request is torn down: after the limiter has counted.
            request.environ[SEAT_ENVIRON_KEY] = (seats, key)
        return view(*args, **kwargs)

    return seated


def leave_attempt_seat(error=None):
    taken = request.environ.pop(SEAT_ENVIRON_KEY, None)
    if taken is not None:
        seats, key = taken
        seats.leave(key)


def limits_for(endpoint):
    """The table's entries for a Flask endpoint (empty: the endpoint is not limited)."""
    endpoint = SAME_LIMITS_AS.get(endpoint, endpoint)
    return tuple(limit for limit in LIMITS if limit.endpoint == endpoint)


def limited_endpoints():
    """Every endpoint the table limits, in table order."""
    return tuple(dict.fromkeys(limit.endpoint for limit in LIMITS))


def app_limited_endpoints(app):
    """The table's endpoints and the registered profile endpoints that share them."""
    aliases = [name for name in SAME_LIMITS_AS if name in app.view_functions]
    return (*limited_endpoints(), *aliases)


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


def read_body():
    try:
        # get_data(cache=True) inside: the route reads the same bytes afterwards.
        return read_json_object(optional=True)
    except (ApiError, HTTPException):
        return {}  # the route answers this 4xx itself; the per-IP limit still counts


def request_body():
    """The JSON body as a dict, or {} when it is not one."""
    return once_per_request("ratelimit_body", read_body)


def read_account_email():
    user = authenticated_user()
    body = request_body()
    # `username`: the OAuth2 profile's login names the account's email so.
    email = user.email if user is not None else body.get("email", body.get("username"))
    if email is None and isinstance(body.get("mfaToken"), str):
        # The second step of a login: the account the (valid) mfaToken is about.
        email = mfa_token_email(body["mfaToken"])
    return (email.strip().lower() or None) if isinstance(email, str) else None


def account_email():
    """The account a request is about, trimmed and lower-cased; None if none.

    On endpoints that take an access token, the caller's (the access check runs
    before the limits); elsewhere the body's email, as the schemas normalise it, or
    the account of the body's mfaToken.
    """
    return once_per_request("ratelimit_email", read_account_email)


def read_known_device():
    user = authenticated_user()
    return read_device_token(
        presented_device_token(request_body().get(DEVICE_FIELD)),
        email=account_email(),
        user_id=user.id if user is not None else None,
    )


def known_device():
    """The device of a valid device token of this request's account, else None."""
    return once_per_request("ratelimit_device", read_known_device)


def account_digest(email):
    """A keyed hash of the email: counters and logs never hold the address itself."""
    secret = (current_app.config.get("SECRET_KEY") or "").encode()
    message = email.encode("utf-8", "surrogatepass")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def account_key():
    # Unknown emails are counted too: the limit must not tell which accounts exist.
    return f"account:{account_digest(account_email())}"


def client_key():
    client_id = request_client()
    return ip_key() if client_id is None else f"client:{client_id[:MAX_KEY_TEXT]}"


def no_account():
    return account_email() is None


def device_key():
    return f"device:{known_device().id}"


def no_known_device():
    return known_device() is None


def account_unless_known_device():
    return no_account() or known_device() is not None


def refused(code):
    """Whether an answer refused with `code`: what `failures_only` entries count."""

    def answer_refused(response):
        if response.status_code not in (400, 401):
            return False
        # Left by app.errors.error_response: the answer may not be the envelope.
        return request.environ.get(ERROR_CODE_KEY) == code

    return answer_refused


password_refused = refused(PASSWORD_REFUSED)


def report_breach(per):
    def on_breach(request_limit):
        fields = {"endpoint": request.endpoint, "limit": str(request_limit.limit)}
        fields.update(per=per, ip=client_ip())
        if per == PER_ACCOUNT:
            fields["account"] = account_digest(account_email())[:16]
        if per == PER_DEVICE:
            fields["device"] = known_device().id
        events.emit(events.RATE_LIMITED, **fields)

    return on_breach


def limit_options(limit):
    """flask-limiter's options for one table entry: key, exemption, deduction."""
    options = {"key_func": ip_key, "on_breach": report_breach(limit.key)}
    if limit.key == PER_ACCOUNT:
        # A body without an email is not counted per account (the per-IP limit is).
        exempt = (
            account_unless_known_device if limit.known_devices_apart else no_account
        )
        options.update(key_func=account_key, exempt_when=exempt)
    elif limit.key == PER_DEVICE:
        options.update(key_func=device_key, exempt_when=no_known_device)
    elif limit.key == PER_CLIENT:
        options["key_func"] = client_key
    if limit.failures_only:
        # Checked before the view like any limit; counted after it, if it refused.
        options["deduct_when"] = refused(limit.refused_code)
    return options


def route_limit(limiter, limit):
    """flask-limiter's decorator for one table entry; the rate is read per request."""

    def rate():
        return current_app.config[limit.setting]

    options = limit_options(limit)
    if limit.shared:
        return limiter.shared_limit(rate, limit.shared, **options)
    return limiter.limit(rate, **options)


def uses_redis(config):
    return config["RATELIMIT_STORAGE_URI"].startswith(REDIS_SCHEMES)


def storage_options(config):
    if not uses_redis(config):
        return {}
    timeout = config["RATELIMIT_STORAGE_TIMEOUT"]
    return {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        # One attempt per call: redis-py's default retries would multiply the
        # timeout, and the fallback answers at once instead.
        "retry": Retry(NoBackoff(), 0),
        # The processes of the fleet share each limit while Redis is away.
        "fallback_divisor": config["SERVER_WORKERS"]
        * config["RATELIMIT_FALLBACK_HOSTS"],
    }


def build_limiter(config):
    """This app's limiter, with our settings in flask-limiter's terms."""
    storage_uri = config["RATELIMIT_STORAGE_URI"]
    if uses_redis(config):
        # Redis away: app/ratelimit_storage.py counts in memory, never unlimited.
        storage_uri = failover_uri(storage_uri)
    return Limiter(
        key_func=ip_key,
        storage_uri=storage_uri,
        storage_options=storage_options(config),
        strategy=STRATEGY,
        key_prefix=config["RATELIMIT_KEY_PREFIX"],
        headers_enabled=True,
        # FailoverStorage never fails; flask-limiter's per-process fallback (a
        # whole limit per worker, a back-off before Redis again) stays off.
        in_memory_fallback_enabled=False,
        swallow_errors=False,
    )


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
    for limit in LIMITS:
        value = config[limit.setting]
        try:
            parse_many(value)
        except ValueError:
            raise ValueError(
                f"{limit.setting}={value!r} is not a rate limit "
                '(flask-limiter syntax, e.g. "10 per minute")'
            ) from None


def apply_limits(app, limiter, seats):
    """Wrap each limited view with its table entries (flask-limiter's decorator)."""
    for endpoint in app_limited_endpoints(app):
        view = app.view_functions[endpoint]
        # As stacked decorators would be: the table's first entry is the outermost.
        for limit in reversed(limits_for(endpoint)):
            view = route_limit(limiter, limit)(view)
        if any(limit.failures_only for limit in limits_for(endpoint)):
            view = one_attempt_at_a_time(seats, view)
        declaration = declaration_of(view)
        if declaration is not None and declaration.security == ACCESS:
            # Counted per caller: the access check answers first (once per request),
            # so a call without a valid token is a 401 that counts nothing.
            view = access_token_required(view)
        app.view_functions[endpoint] = view


def register_rate_limits(app):
    """Build this app's limiter and apply the table; after the blueprints."""
    check_limit_settings(app.config)
    if not app.config["RATELIMIT_ENABLED"]:
        return
    limiter = build_limiter(app.config)
    # Registered before the limiter's own hook, so it runs after it (Flask reverses).
    app.after_request(fix_retry_after)
    limiter.init_app(app)
    apply_limits(app, limiter, AttemptSeats())
    app.teardown_request(leave_attempt_seat)
