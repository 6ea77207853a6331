"""Every setting with its default, read from the environment (and `.env`) once.

`load_config(overrides)` is called by `create_app`; code reads `current_app.config`.
"""

import json
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

# The compatibility profiles COMPAT_PROFILES may name (app/compat, docs/compat.md).
COMPAT_PROFILE_NAMES = ("chirpy", "fastapi-mock", "oauth2")
WEAK_SECRETS = {"", "change-me", "changeme", "secret", "dev", "development", "test"}
MIN_SECRET_LENGTH = 32


def as_bool(value, default=False):
    """Parse an environment flag: 1/true/yes/on are true, 0/false/no/off false."""
    if value is None or value == "":
        return default
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def as_int(value, default):
    return default if value in (None, "") else int(value)


def as_list(value, default=()):
    if value in (None, ""):
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def same_site(value):
    """Strict, Lax or None, however written; anything else stops startup."""
    for name in ("Strict", "Lax", "None"):
        if str(value).strip().lower() == name.lower():
            return name
    raise ValueError(f"COOKIE_SAMESITE must be Strict, Lax or None, not {value!r}")


def url_host(url):
    """The host of a URL, lower-cased, without port ("" when it has none)."""
    return (urlsplit(url).hostname or "").lower()


def url_origin(url):
    """scheme://host[:port] of a URL: what a browser reports as its origin."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def compat_profiles(value):
    """COMPAT_PROFILES as a list of known names; a typo stops startup."""
    listed = as_list(value) if value is None or isinstance(value, str) else value
    names = list(dict.fromkeys(name.strip().lower() for name in listed))
    unknown = [name for name in names if name not in COMPAT_PROFILE_NAMES]
    if unknown:
        raise ValueError(
            f"COMPAT_PROFILES names unknown profiles {unknown}; "
            f"known: {', '.join(COMPAT_PROFILE_NAMES)}"
        )
    return names


def introspection_clients(value):
    """{client id: secret} from "id:secret,..."; a malformed entry stops startup."""
    clients = {}
    for item in as_list(value):
        client_id, separator, secret = item.partition(":")
        if not separator or not client_id.strip() or len(secret.strip()) < 16:
            raise ValueError(
                "INTROSPECTION_CLIENTS entries are id:secret, secrets of 16+ characters"
            )
        clients[client_id.strip()] = secret.strip()
    return clients


def env(name, default=None):
    return os.environ.get(name, default)


class Config:
    """Defaults shared by every environment; subclasses change what differs."""

    APP_ENV = "base"
    DEBUG = False
    TESTING = False

    def __init__(self):
        # Secrets
        self.SECRET_KEY = env("SECRET_KEY")
        self.JWT_SECRET_KEY = env("JWT_SECRET_KEY")
        # Earlier SECRET_KEYs: they still decrypt the TOTP secrets stored under them.
        self.PREVIOUS_SECRET_KEYS = as_list(env("PREVIOUS_SECRET_KEYS"))

        # Storage
        self.SQLALCHEMY_DATABASE_URI = (
            env("DATABASE_URL") or self.default_database_url()
        )
        self.SQLALCHEMY_ENGINE_OPTIONS = engine_options(self.SQLALCHEMY_DATABASE_URI)
        self.SQLALCHEMY_TRACK_MODIFICATIONS = False
        # A query running longer has its connection cut and the request answers 503
        # (app/outages.py); 0 turns the watchdog off.
        self.DB_QUERY_TIMEOUT_MS = as_int(env("DB_QUERY_TIMEOUT_MS"), 5000)
        # The check of a pooled server connection before it is lent: past this, the
        # connection is discarded and a new one made (0: lent unchecked).
        self.DB_PING_TIMEOUT_MS = as_int(env("DB_PING_TIMEOUT_MS"), 1000)

        # Tokens and sessions
        self.ACCESS_TOKEN_TTL = as_int(env("ACCESS_TOKEN_TTL"), 3600)
        self.REFRESH_TOKEN_TTL = as_int(env("REFRESH_TOKEN_TTL"), 5184000)
        self.REFRESH_REUSE_GRACE_SECONDS = as_int(
            env("REFRESH_REUSE_GRACE_SECONDS"), 10
        )
        self.SESSION_RETENTION_DAYS = as_int(env("SESSION_RETENTION_DAYS"), 30)
        # How long a device token (app/auth/devices.py) keeps a device known.
        self.DEVICE_TOKEN_TTL_DAYS = as_int(env("DEVICE_TOKEN_TTL_DAYS"), 365)
        self.JWT_ALGORITHM = env("JWT_ALGORITHM", "HS256")
        # RFC 9068 `iss` and `aud` of access tokens; verifiers check both.
        self.JWT_ISSUER = env("JWT_ISSUER") or "auth-server"
        self.JWT_AUDIENCE = as_list(env("JWT_AUDIENCE"), ["auth-server"])
        # Asymmetric signing (RS256, ES256, EdDSA): PEM in the variable or a file path.
        self.JWT_PRIVATE_KEY = env("JWT_PRIVATE_KEY") or None
        self.JWT_PRIVATE_KEY_FILE = env("JWT_PRIVATE_KEY_FILE") or None
        self.JWT_PUBLIC_KEY = env("JWT_PUBLIC_KEY") or None
        self.JWT_PUBLIC_KEY_FILE = env("JWT_PUBLIC_KEY_FILE") or None
        # Rotation: keys that no longer sign but still verify, until removed.
        self.JWT_PREVIOUS_PUBLIC_KEYS = env("JWT_PREVIOUS_PUBLIC_KEYS") or None
        self.JWT_PREVIOUS_PUBLIC_KEY_FILES = as_list(
            env("JWT_PREVIOUS_PUBLIC_KEY_FILES")
        )
        self.JWT_PREVIOUS_SECRET_KEYS = as_list(env("JWT_PREVIOUS_SECRET_KEYS"))
        self.JWKS_MAX_AGE = as_int(env("JWKS_MAX_AGE"), 300)
        # Revocation feed (/.well-known/revocations): the longest long-poll, and how
        # many held polls a worker process keeps (the rest are answered at once).
        self.REVOCATION_FEED_MAX_WAIT = as_int(env("REVOCATION_FEED_MAX_WAIT"), 25)
        self.REVOCATION_FEED_MAX_WAITERS = as_int(env("REVOCATION_FEED_MAX_WAITERS"), 4)
        # Introspection (RFC 7662) service credentials: "id:secret,id2:secret2".
        self.INTROSPECTION_CLIENTS = introspection_clients(env("INTROSPECTION_CLIENTS"))

        # Audit trail (app/audit): `flask auth purge` deletes older events; client
        # IPs stored in full, or "truncated" to their /24 (IPv4) or /64 (IPv6).
        self.AUDIT_RETENTION_DAYS = as_int(env("AUDIT_RETENTION_DAYS"), 365)
        self.AUDIT_IP_STORAGE = env("AUDIT_IP_STORAGE", "full")
        # Admins without a second factor are refused by the admin API.
        self.ADMIN_REQUIRE_MFA = as_bool(
            env("ADMIN_REQUIRE_MFA"), self.default_admin_require_mfa()
        )

        # Security alerts mailed to the user, each with a "This wasn't me" link
        # valid COMPROMISED_LINK_TTL seconds (app/auth/alerts.py).
        self.ALERT_NEW_DEVICE = as_bool(
            env("ALERT_NEW_DEVICE"), self.default_new_device_alert()
        )
        self.ALERT_REFRESH_REUSE = as_bool(env("ALERT_REFRESH_REUSE"), True)
        self.ALERT_PASSWORD_CHANGED = as_bool(env("ALERT_PASSWORD_CHANGED"), True)
        self.COMPROMISED_LINK_TTL = as_int(env("COMPROMISED_LINK_TTL"), 7 * 86400)
        self.ALERT_MFA_DISABLED = as_bool(env("ALERT_MFA_DISABLED"), True)

        # Two-factor sign-in (TOTP)
        self.MFA_ISSUER = env("MFA_ISSUER") or "auth-server"
        # Seconds a sensitive action accepts the session's last second factor.
        self.MFA_STEP_UP_TTL = as_int(env("MFA_STEP_UP_TTL"), 300)
        # Seconds a login has to present its second factor (the mfaToken's lifetime).
        self.MFA_TOKEN_TTL = as_int(env("MFA_TOKEN_TTL"), 300)

        # Sign-in with OpenID Connect / OAuth providers (docs/oidc.md): the providers
        # from the JSON file OIDC_PROVIDERS_FILE names (none without it).
        self.OIDC_PROVIDERS_FILE = env("OIDC_PROVIDERS_FILE") or None
        self.OIDC_PROVIDERS = read_providers_file(self.OIDC_PROVIDERS_FILE)
        # Where mobile apps may receive their login code (exact URLs, comma-separated).
        self.OAUTH_APP_REDIRECTS = as_list(env("OAUTH_APP_REDIRECTS"))
        # Seconds a provider may take per HTTP call (discovery, keys, token, user).
        self.OAUTH_HTTP_TIMEOUT = float(env("OAUTH_HTTP_TIMEOUT") or 5)
        # Seconds between authorize and callback (the state cookie's lifetime).
        self.OAUTH_STATE_TTL = as_int(env("OAUTH_STATE_TTL"), 600)
        # Seconds the one-time login code of a callback can be exchanged.
        self.OAUTH_LOGIN_CODE_TTL = as_int(env("OAUTH_LOGIN_CODE_TTL"), 60)

        # Passwords
        self.BCRYPT_ROUNDS = as_int(env("BCRYPT_ROUNDS"), self.default_bcrypt_rounds())
        self.PASSWORD_RESET_TTL = as_int(env("PASSWORD_RESET_TTL"), 1800)
        self.EMAIL_VERIFY_TTL = as_int(env("EMAIL_VERIFY_TTL"), 86400)

        # Account lifecycle (app/users/email_change.py, app/users/deletion.py)
        # Login and refresh of an unverified account answer 403 email_unverified.
        self.REQUIRE_EMAIL_VERIFICATION = as_bool(
            env("REQUIRE_EMAIL_VERIFICATION"), False
        )
        self.EMAIL_CHANGE_TTL = as_int(env("EMAIL_CHANGE_TTL"), 86400)
        self.EMAIL_REVERT_TTL = as_int(env("EMAIL_REVERT_TTL"), 7 * 86400)
        # 0: DELETE /users/me erases at once; else the account waits this many days,
        # restorable by signing in, until `flask auth purge` erases it.
        self.ACCOUNT_DELETION_GRACE_DAYS = as_int(
            env("ACCOUNT_DELETION_GRACE_DAYS"), 0
        )
        # `make run` creates the demo accounts on an empty database (development).
        self.SEED_DEMO_USERS = as_bool(env("SEED_DEMO_USERS"), False)

        # Cookies
        self.COOKIE_SECURE = as_bool(env("COOKIE_SECURE"), self.default_cookie_secure())
        self.COOKIE_SAMESITE = same_site(env("COOKIE_SAMESITE", "Strict"))
        self.COOKIE_DOMAIN = env("COOKIE_DOMAIN") or None
        self.CSRF_PROTECT = as_bool(env("CSRF_PROTECT"), True)

        # HTTP
        self.MAX_CONTENT_LENGTH = as_int(env("MAX_CONTENT_LENGTH"), 64 * 1024)
        self.CORS_ORIGINS = as_list(env("CORS_ORIGINS"))
        self.FRONTEND_URL = env("FRONTEND_URL", "http://localhost:3000").rstrip("/")
        # Passkeys (WebAuthn). Unset: the relying party is the frontend's host, and
        # the ceremonies are accepted from its origin (filled in by `load_config`,
        # after the overrides, from the FRONTEND_URL in force).
        self.WEBAUTHN_RP_ID = env("WEBAUTHN_RP_ID") or None
        self.WEBAUTHN_RP_NAME = env("WEBAUTHN_RP_NAME") or "auth-server"
        self.WEBAUTHN_ORIGINS = as_list(env("WEBAUTHN_ORIGINS"))
        self.TRUSTED_PROXY_COUNT = as_int(env("TRUSTED_PROXY_COUNT"), 0)
        # gunicorn workers (gunicorn.conf.py reads the same variable, default 2).
        self.WEB_CONCURRENCY = as_int(env("WEB_CONCURRENCY"), 2)
        # Worker processes actually serving on this host: gunicorn.conf.py sets it
        # in each worker to gunicorn's count (`-w` included).
        self.SERVER_WORKERS = max(
            1, as_int(env("SERVER_WORKERS"), self.WEB_CONCURRENCY)
        )
        # bcrypt hashes one worker runs at once (0: no bound); default: its share of
        # the cores, so that a login flood cannot crowd out cheap requests.
        self.BCRYPT_CONCURRENCY = as_int(
            env("BCRYPT_CONCURRENCY"),
            max(1, (os.cpu_count() or 1) // max(1, self.WEB_CONCURRENCY)),
        )
        # Logins waiting for a bcrypt seat per worker, and for how long; past either
        # bound a login is 503 busy at once (Retry-After), so that waiting logins
        # never hold every thread while cheap requests queue behind them.
        # Default: all but 4 of a worker's threads (gunicorn.conf.py's GUNICORN_THREADS).
        threads = as_int(env("GUNICORN_THREADS"), 16)
        self.BCRYPT_MAX_WAITING = as_int(
            env("BCRYPT_MAX_WAITING"), max(1, threads - 4)
        )
        self.BCRYPT_MAX_WAIT_MS = as_int(env("BCRYPT_MAX_WAIT_MS"), 5000)
        # Steps of CPU priority (nice) the hashing threads give up to request threads.
        self.BCRYPT_NICE = as_int(env("BCRYPT_NICE"), 10)
        self.DEBUG = as_bool(env("FLASK_DEBUG")) or as_bool(env("DEBUG"))

        # Mail
        self.MAIL_SERVER = env("MAIL_SERVER") or None
        self.MAIL_PORT = as_int(env("MAIL_PORT"), 25)
        self.MAIL_USE_TLS = as_bool(env("MAIL_USE_TLS"), False)
        self.MAIL_USE_SSL = as_bool(env("MAIL_USE_SSL"), False)
        self.MAIL_USERNAME = env("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = env("MAIL_PASSWORD") or None
        self.MAIL_DEFAULT_SENDER = env("MAIL_DEFAULT_SENDER", "no-reply@localhost")
        self.MAIL_TIMEOUT = as_int(env("MAIL_TIMEOUT"), 10)
        # Outbox sender (app/outbox): a failed mail is retried after this many ms,
        # the delay doubling up to MAIL_RETRY_MAX_DELAY seconds, for MAIL_RETRY_FOR
        # hours after it was written; then it is marked failed.
        self.MAIL_RETRY_BACKOFF_MS = as_int(env("MAIL_RETRY_BACKOFF_MS"), 1000)
        self.MAIL_RETRY_MAX_DELAY = as_int(env("MAIL_RETRY_MAX_DELAY"), 600)
        self.MAIL_RETRY_FOR = float(env("MAIL_RETRY_FOR") or 24)
        # Seconds a sender owns a claimed mail; a crashed sender's mail is taken
        # over after it. Well above one SMTP delivery (several MAIL_TIMEOUTs).
        self.MAIL_LEASE_SECONDS = as_int(env("MAIL_LEASE_SECONDS"), 300)
        # Seconds between looks at the outbox (a commit in this process wakes the
        # sender at once; the poll finds mail written by other processes).
        self.MAIL_POLL_INTERVAL = float(env("MAIL_POLL_INTERVAL") or 1)
        # `flask mail purge` deletes mails done (sent, failed...) longer ago.
        self.MAIL_RETENTION_DAYS = as_int(env("MAIL_RETENTION_DAYS"), 30)
        # A mail request (a reset) is handled between a quarter of this and this
        # many ms after it: the sender's work for a known account does not follow
        # the request in time. 0 (the tests' default): at once.
        self.MAIL_REQUEST_DELAY_MS = as_int(
            env("MAIL_REQUEST_DELAY_MS"), self.default_mail_request_delay()
        )
        # A sender thread in each gunicorn worker; false when `flask mail send`
        # runs as a process of its own.
        self.MAIL_SENDER_THREAD = as_bool(env("MAIL_SENDER_THREAD"), True)

        # Rate limits (flask-limiter syntax)
        self.RATELIMIT_ENABLED = as_bool(
            env("RATELIMIT_ENABLED"), self.default_ratelimit()
        )
        self.RATELIMIT_STORAGE_URI = env("RATELIMIT_STORAGE_URI", "memory://")
        # Seconds a Redis call may take before the limits fall back to memory.
        self.RATELIMIT_STORAGE_TIMEOUT = float(env("RATELIMIT_STORAGE_TIMEOUT") or 0.5)
        # While Redis is away each process counts in memory a share of every limit:
        # the limit divided by SERVER_WORKERS x RATELIMIT_FALLBACK_HOSTS.
        self.RATELIMIT_FALLBACK_HOSTS = max(
            1, as_int(env("RATELIMIT_FALLBACK_HOSTS"), 1)
        )
        # Namespace of the counters, for several apps sharing one Redis.
        self.RATELIMIT_KEY_PREFIX = env("RATELIMIT_KEY_PREFIX", "")
        # The limits themselves: one setting per entry of app/ratelimit.py's table.
        for setting, rate in rate_limit_settings().items():
            setattr(self, setting, rate)

        # Observability
        self.METRICS_ENABLED = as_bool(env("METRICS_ENABLED"), True)
        # Scrapers send `Authorization: Bearer <METRICS_TOKEN>`; production serves
        # /metrics only with one (its counters would tell who has an account).
        self.METRICS_TOKEN = env("METRICS_TOKEN") or None
        self.LOG_LEVEL = env("LOG_LEVEL", "INFO").upper()
        # Compatibility profiles to serve (docs/compat.md); none by default.
        self.COMPAT_PROFILES = compat_profiles(env("COMPAT_PROFILES"))
        # Development mock mode: demo users and simulated failures (development only).
        self.DEV_MOCK = as_bool(env("DEV_MOCK"), False)
        # /health answers within this budget even when a dependency hangs.
        self.HEALTH_CHECK_TIMEOUT_MS = as_int(env("HEALTH_CHECK_TIMEOUT_MS"), 1500)
        # Strict-Transport-Security max-age, sent in production only; 0 turns it off.
        self.HSTS_MAX_AGE = as_int(env("HSTS_MAX_AGE"), 63072000)
        # Test setups only (tests/cluster): every answer names its host in
        # `X-Served-By`, so a test sees the proxy spread requests. Unset: no header.
        self.SERVED_BY = env("SERVED_BY") or None

    def default_database_url(self):
        return f"sqlite:///{INSTANCE_DIR / 'auth.db'}"

    def default_bcrypt_rounds(self):
        return 12

    def default_cookie_secure(self):
        return True

    def default_ratelimit(self):
        return True

    def default_mail_request_delay(self):
        return 2000

    def default_admin_require_mfa(self):
        return False

    def default_new_device_alert(self):
        return True


class DevelopmentConfig(Config):
    APP_ENV = "development"

    def default_cookie_secure(self):
        # Plain http://127.0.0.1 in development: a Secure cookie would not come back.
        return False


class TestingConfig(Config):
    APP_ENV = "testing"
    TESTING = True

    def default_database_url(self):
        return "sqlite://"

    def default_bcrypt_rounds(self):
        return 4

    def default_ratelimit(self):
        return False

    def default_mail_request_delay(self):
        return 0

    def default_new_device_alert(self):
        # Every test client is a new device: the alert tests turn it on.
        return False


class ProductionConfig(Config):
    APP_ENV = "production"

    def default_admin_require_mfa(self):
        return True


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def sqlite_in_memory(url):
    """`sqlite://`, `:memory:` or mode=memory: one shared connection, no pool size."""
    path = url.split("://", 1)[-1]
    return path in ("", "/", "/:memory:") or "mode=memory" in path


def engine_options(url):
    """Pool settings per backend: SQLite waits for locks, PostgreSQL bounds waits.

    PostgreSQL's pooled connections are checked before use by app/outages.py, under
    a deadline (SQLAlchemy's pool_pre_ping has none: it hangs with a hung server).
    """
    # hide_parameters: an error message never carries bound values (hashes, emails).
    if url.startswith("sqlite"):
        options = {"connect_args": {"timeout": 15}, "hide_parameters": True}
        if not sqlite_in_memory(url):
            # Connections kept open for the gunicorn threads (5 left most of 16
            # threads opening one per request, PRAGMAs included: WAL takes a lock).
            # Each holds up to 2 MB of SQLite page cache: 20 cost ~10 MB of RSS more.
            options["pool_size"] = as_int(env("DB_POOL_SIZE"), 10)
        return options
    return {
        "hide_parameters": True,
        "connect_args": {"connect_timeout": as_int(env("DB_CONNECT_TIMEOUT"), 3)},
        "pool_size": as_int(env("DB_POOL_SIZE"), 5),
        "max_overflow": as_int(env("DB_MAX_OVERFLOW"), 10),
        "pool_recycle": as_int(env("DB_POOL_RECYCLE"), 1800),
        # Seconds a request waits for a pooled connection before it answers 503.
        "pool_timeout": as_int(env("DB_POOL_TIMEOUT"), 3),
    }


def read_providers_file(path):
    """The provider list of the JSON file at `path`; [] without one."""
    if not path:
        return []
    try:
        providers = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RuntimeError(f"OIDC_PROVIDERS_FILE {path!r}: {error}") from None
    if not isinstance(providers, list):
        raise RuntimeError(f"OIDC_PROVIDERS_FILE {path!r} must hold a JSON list")
    return providers


def rate_limit_settings():
    """Each rate of app/ratelimit.py's LIMITS: its variable, else its default."""
    # Imported here: app/ratelimit.py imports the app package, which imports config.
    from app.ratelimit import LIMITS

    return {limit.setting: env(limit.setting, limit.default) for limit in LIMITS}


def load_config(overrides=None):
    """Build the settings dict for `create_app` from the environment and overrides."""
    load_dotenv(BASE_DIR / ".env", override=False)
    overrides = dict(overrides or {})
    app_env = overrides.get("APP_ENV") or env("APP_ENV", "development")
    if app_env not in CONFIGS:
        raise RuntimeError(f"APP_ENV must be one of {sorted(CONFIGS)}, not {app_env!r}")
    config_obj = CONFIGS[app_env]()
    settings = {
        key: getattr(config_obj, key) for key in dir(config_obj) if key.isupper()
    }
    settings.update(overrides)
    fill_webauthn_defaults(settings)
    settings["COMPAT_PROFILES"] = compat_profiles(settings["COMPAT_PROFILES"])
    if (
        "SQLALCHEMY_DATABASE_URI" in overrides
        and "SQLALCHEMY_ENGINE_OPTIONS" not in overrides
    ):
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
            settings["SQLALCHEMY_DATABASE_URI"]
        )
    if app_env == "development":
        fill_development_secrets(settings)
    elif app_env == "testing":
        for key in ("SECRET_KEY", "JWT_SECRET_KEY"):
            settings[key] = settings.get(key) or secrets.token_urlsafe(48)
    return settings


def webauthn_relying_party(settings):
    """(RP id, origins) of passkeys: as set, else FRONTEND_URL's host and origin."""
    frontend = settings.get("FRONTEND_URL") or ""
    rp_id = settings.get("WEBAUTHN_RP_ID") or url_host(frontend)
    origins = list(settings.get("WEBAUTHN_ORIGINS") or [url_origin(frontend)])
    return rp_id, origins


def fill_webauthn_defaults(settings):
    rp_id, origins = webauthn_relying_party(settings)
    settings["WEBAUTHN_RP_ID"] = rp_id
    settings["WEBAUTHN_ORIGINS"] = origins


def fill_development_secrets(settings):
    """Generate secrets once and keep them in the instance folder across restarts."""
    for key in ("SECRET_KEY", "JWT_SECRET_KEY"):
        if settings.get(key):
            continue
        path = INSTANCE_DIR / f".{key.lower()}"
        if not path.exists():
            INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        settings[key] = path.read_text().strip()
        settings.setdefault("GENERATED_SECRETS", []).append(key)
