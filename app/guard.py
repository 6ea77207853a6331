"""Startup checks: production refuses to run on unsafe settings.

The same checks back `flask auth doctor`, which prints them for any environment; on
settings the app refuses, the maintenance app runs it (`flask --app maintenance`,
see `create_maintenance_app`).
"""

import logging
from dataclasses import dataclass

from app.auth.keys import HS256, KeyConfigError, load_keyset
from config import (
    MIN_SECRET_LENGTH,
    WEAK_SECRETS,
    url_host,
    webauthn_relying_party,
)

log = logging.getLogger(__name__)

MIN_PRODUCTION_BCRYPT_ROUNDS = 10
# A random 32-character secret has about 20 distinct characters; a keyboard pattern
# or a repeated one has a handful.
MIN_DISTINCT_CHARACTERS = 12
MAINTENANCE_HINT = "`flask --app maintenance auth doctor` reports every check"


class UnsafeConfiguration(RuntimeError):
    """Raised at startup when production settings are unsafe; names the setting."""


@dataclass(frozen=True)
class Check:
    """One production check: the setting it is about, whether it passes, and why."""

    setting: str
    ok: bool
    message: str


def secret_problem(name, value):
    if not value:
        return f"{name} is not set"
    if value.strip().lower() in WEAK_SECRETS or len(value) < MIN_SECRET_LENGTH:
        return (
            f"{name} is too weak (use at least {MIN_SECRET_LENGTH} random characters)"
        )
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:
        return (
            f"{name} has too little entropy (a repeated character or a tiny "
            "alphabet): use random characters, e.g. `python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`"
        )
    return None


def secret_check(name, value):
    problem = secret_problem(name, value)
    return Check(name, problem is None, problem or f"{name} is set and strong")


def signing_checks(config):
    """The JWT keys load; HS256 secrets (current and previous) are strong."""
    try:
        keyset = load_keyset(config)
    except KeyConfigError as error:
        return [Check("JWT keys", False, str(error))]
    checks = []
    if keyset.algorithm == HS256:
        checks.append(secret_check("JWT_SECRET_KEY", config.get("JWT_SECRET_KEY")))
        for number, previous in enumerate(config.get("JWT_PREVIOUS_SECRET_KEYS") or []):
            problem = secret_problem(f"JWT_PREVIOUS_SECRET_KEYS[{number}]", previous)
            if problem:
                checks.append(Check("JWT_PREVIOUS_SECRET_KEYS", False, problem))
    summary = (
        f"JWT_ALGORITHM={keyset.algorithm}, signing kid {keyset.kid}, "
        f"{len(keyset.verify_keys) - 1} previous key(s) still verify"
    )
    return [*checks, Check("JWT keys", True, summary)]


def check(setting, ok, passing, failing):
    """A Check whose message says why it passes or why it fails."""
    return Check(setting, bool(ok), passing if ok else failing)


def rate_limit_storage_check(config, workers=None):
    """memory:// counts per process: refused with more than one worker.

    `workers` defaults to SERVER_WORKERS: gunicorn's real count, which its
    `post_fork` hook hands to each worker before the app starts (WEB_CONCURRENCY
    outside gunicorn).
    """
    storage = config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if not config.get("RATELIMIT_ENABLED"):
        return Check("RATELIMIT_STORAGE_URI", True, "rate limits are off")
    where = storage.split("://", 1)[0]
    if not storage.startswith("memory://"):
        return Check("RATELIMIT_STORAGE_URI", True, f"{where}:// storage")
    if workers is None:
        workers = config.get("SERVER_WORKERS") or config.get("WEB_CONCURRENCY") or 1
    return check(
        "RATELIMIT_STORAGE_URI",
        workers <= 1,
        f"memory:// storage for {workers} worker",
        f"RATELIMIT_STORAGE_URI is memory:// with {workers} gunicorn workers: each "
        "would count on its own; use redis://",
    )


def secrets_differ_check(config):
    secret, jwt_secret = config.get("SECRET_KEY"), config.get("JWT_SECRET_KEY")
    return check(
        "SECRET_KEY",
        not secret or secret != jwt_secret,
        "SECRET_KEY and JWT_SECRET_KEY differ",
        "SECRET_KEY equals JWT_SECRET_KEY: a leak of one would be a leak of both",
    )


def cors_origins_check(config):
    plain = [
        origin
        for origin in config.get("CORS_ORIGINS") or []
        if not origin.lower().startswith("https://")
    ]
    return check(
        "CORS_ORIGINS",
        not plain,
        "CORS origins are https",
        f"CORS_ORIGINS allows {', '.join(plain)}: a page served over plain HTTP "
        "can be changed on the way and would call the API with the user's cookie",
    )


def within_rp_id(host, rp_id):
    """A host may use an RP ID that is itself or a parent domain of it (WebAuthn)."""
    return bool(rp_id) and (host == rp_id or host.endswith(f".{rp_id}"))


def webauthn_check(config):
    rp_id, origins = webauthn_relying_party(config)
    rp_id = rp_id.lower()
    frontend_host = url_host(config.get("FRONTEND_URL") or "")
    outside = [
        origin
        for origin in origins
        if not origin.lower().startswith("https://")
        or not within_rp_id(url_host(origin), rp_id)
    ]
    if not within_rp_id(frontend_host, rp_id):
        problem = (
            f"WEBAUTHN_RP_ID is {rp_id or 'unset'} but the frontend's host is "
            f"{frontend_host or 'unset'}: browsers would refuse every passkey"
        )
    else:
        problem = (
            f"WEBAUTHN_ORIGINS allows {', '.join(outside)}: passkey origins must be "
            f"https pages on {rp_id}"
        )
    return check(
        "WEBAUTHN_RP_ID",
        within_rp_id(frontend_host, rp_id) and not outside,
        f"passkeys belong to {rp_id}",
        problem,
    )


def compat_checks(config):
    """DEV_MOCK never in production; the profiles served are the ones named."""
    profiles = config.get("COMPAT_PROFILES") or []
    return [
        check(
            "DEV_MOCK",
            not config.get("DEV_MOCK"),
            "development mock mode is off",
            "DEV_MOCK is true: demo users with published passwords and simulated "
            "failures must never run in production",
        ),
        check(
            "SEED_DEMO_USERS",
            not config.get("SEED_DEMO_USERS"),
            "no demo users are seeded",
            "SEED_DEMO_USERS is true: demo accounts are for development only",
        ),
        # config.py refuses names it does not know; the default is none.
        Check(
            "COMPAT_PROFILES",
            True,
            "compatibility profiles served (explicitly allowed): "
            + (", ".join(profiles) if profiles else "none"),
        ),
    ]


def settings_checks(config, workers=None):
    """Every production check, passing or not, in a stable order."""
    rounds = config.get("BCRYPT_ROUNDS") or 0
    frontend = config.get("FRONTEND_URL") or ""
    samesite = str(config.get("COOKIE_SAMESITE") or "")
    return [
        secret_check("SECRET_KEY", config.get("SECRET_KEY")),
        *signing_checks(config),
        secrets_differ_check(config),
        check(
            "COOKIE_SECURE",
            config.get("COOKIE_SECURE"),
            "refresh cookies are Secure",
            "COOKIE_SECURE is false: refresh cookies would travel over plain HTTP",
        ),
        check(
            "COOKIE_SAMESITE",
            samesite.lower() != "none",
            f"refresh cookies are SameSite={samesite}",
            "COOKIE_SAMESITE is None: every site could make the browser send the "
            "refresh cookie",
        ),
        check(
            "CSRF_PROTECT",
            config.get("CSRF_PROTECT"),
            "cookie refreshes need the X-CSRF-TOKEN header",
            "CSRF_PROTECT is false: cookie refreshes would skip the CSRF check",
        ),
        cors_origins_check(config),
        check(
            "FRONTEND_URL",
            frontend.lower().startswith("https://"),
            f"mailed links start with {frontend}",
            f"FRONTEND_URL is {frontend or 'unset'}: mailed links must be https",
        ),
        webauthn_check(config),
        check(
            "MAIL_SERVER",
            config.get("MAIL_SERVER"),
            f"mail goes to {config.get('MAIL_SERVER')}",
            "MAIL_SERVER is not set: no reset or verification mail would leave",
        ),
        check(
            "RATELIMIT_ENABLED",
            config.get("RATELIMIT_ENABLED"),
            "rate limits are on",
            "RATELIMIT_ENABLED is false: passwords and codes could be guessed freely",
        ),
        rate_limit_storage_check(config, workers),
        check(
            "FLASK_DEBUG",
            not config.get("DEBUG"),
            "debug mode is off",
            "FLASK_DEBUG/DEBUG is on: debug mode must never run in production",
        ),
        check(
            "BCRYPT_ROUNDS",
            rounds >= MIN_PRODUCTION_BCRYPT_ROUNDS,
            f"BCRYPT_ROUNDS={rounds}",
            f"BCRYPT_ROUNDS={rounds} is under {MIN_PRODUCTION_BCRYPT_ROUNDS}: "
            "hashes too cheap",
        ),
        *compat_checks(config),
    ]


def production_problems(config):
    """Every unsafe production setting, as messages naming the variable."""
    return [check.message for check in settings_checks(config) if not check.ok]


def enforce_production_settings(config):
    if config["APP_ENV"] != "production":
        return
    problems = production_problems(config)
    if problems:
        raise UnsafeConfiguration(
            "Refusing to start: " + "; ".join(problems) + f" ({MAINTENANCE_HINT})"
        )


def warn_about_generated_secrets(config):
    for key in config.get("GENERATED_SECRETS", []):
        log.warning(
            "%s was generated and kept in the instance folder for development; "
            "production must set its own.",
            key,
        )
