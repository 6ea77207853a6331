"""Startup checks: production refuses to run on unsafe settings.

The same checks back `flask auth doctor`, which prints them for any environment; on
settings the app refuses, the maintenance app runs it (`flask --app maintenance`,
see `create_maintenance_app`).
"""

import logging
from dataclasses import dataclass

from app.auth.keys import HS256, KeyConfigError, load_keyset
from config import MIN_SECRET_LENGTH, WEAK_SECRETS

log = logging.getLogger(__name__)

MIN_PRODUCTION_BCRYPT_ROUNDS = 10
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


def rate_limit_storage_check(config):
    storage = config.get("RATELIMIT_STORAGE_URI") or "memory://"
    workers = config.get("WEB_CONCURRENCY") or 1
    if not config.get("RATELIMIT_ENABLED"):
        return Check("RATELIMIT_STORAGE_URI", True, "rate limits are off")
    if storage.startswith("memory://") and workers > 1:
        return Check(
            "RATELIMIT_STORAGE_URI",
            False,
            f"RATELIMIT_STORAGE_URI is memory:// with WEB_CONCURRENCY={workers}: "
            "each worker would count on its own; use redis://",
        )
    where = storage.split("://", 1)[0]
    return Check(
        "RATELIMIT_STORAGE_URI", True, f"{where}:// storage for {workers} worker(s)"
    )


def settings_checks(config):
    """Every production check, passing or not, in a stable order."""
    rounds = config.get("BCRYPT_ROUNDS") or 0
    return [
        secret_check("SECRET_KEY", config.get("SECRET_KEY")),
        *signing_checks(config),
        Check(
            "COOKIE_SECURE",
            bool(config.get("COOKIE_SECURE")),
            "refresh cookies are Secure"
            if config.get("COOKIE_SECURE")
            else "COOKIE_SECURE is false: refresh cookies would travel over plain HTTP",
        ),
        Check(
            "CSRF_PROTECT",
            bool(config.get("CSRF_PROTECT")),
            "cookie refreshes need the X-CSRF-TOKEN header"
            if config.get("CSRF_PROTECT")
            else "CSRF_PROTECT is false: cookie refreshes would skip the CSRF check",
        ),
        rate_limit_storage_check(config),
        Check(
            "FLASK_DEBUG",
            not config.get("DEBUG"),
            "FLASK_DEBUG/DEBUG is on: debug mode must never run in production"
            if config.get("DEBUG")
            else "debug mode is off",
        ),
        Check(
            "BCRYPT_ROUNDS",
            rounds >= MIN_PRODUCTION_BCRYPT_ROUNDS,
            f"BCRYPT_ROUNDS={rounds}"
            + (
                ""
                if rounds >= MIN_PRODUCTION_BCRYPT_ROUNDS
                else f" is under {MIN_PRODUCTION_BCRYPT_ROUNDS}: hashes too cheap"
            ),
        ),
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
