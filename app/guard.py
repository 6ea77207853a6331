"""Startup checks: production refuses to run on unsafe settings."""

import logging

from config import MIN_SECRET_LENGTH, WEAK_SECRETS

log = logging.getLogger(__name__)


class UnsafeConfiguration(RuntimeError):
    """Raised at startup when production settings are unsafe; names the setting."""


def secret_problem(name, value):
    if not value:
        return f"{name} is not set"
    if value.strip().lower() in WEAK_SECRETS or len(value) < MIN_SECRET_LENGTH:
        return (
            f"{name} is too weak (use at least {MIN_SECRET_LENGTH} random characters)"
        )
    return None


def production_problems(config):
    """Every unsafe production setting, as messages naming the variable."""
    problems = [
        secret_problem("SECRET_KEY", config.get("SECRET_KEY")),
        secret_problem("JWT_SECRET_KEY", config.get("JWT_SECRET_KEY")),
    ]
    return [problem for problem in problems if problem]


def enforce_production_settings(config):
    if config["APP_ENV"] != "production":
        return
    problems = production_problems(config)
    if problems:
        raise UnsafeConfiguration("Refusing to start: " + "; ".join(problems))


def warn_about_generated_secrets(config):
    for key in config.get("GENERATED_SECRETS", []):
        log.warning(
            "%s was generated and kept in the instance folder for development; "
            "production must set its own.",
            key,
        )
