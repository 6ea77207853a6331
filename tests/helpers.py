"""Assertions and small helpers shared by the test modules."""

import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event

IN_CI = os.environ.get("CI", "").lower() == "true"
# The fields of a user object in every answer (API.md).
USER_FIELDS = {
    "id",
    "name",
    "email",
    "profilePicture",
    "emailVerified",
    "mfaEnabled",
    "createdAt",
    "updatedAt",
}


def run_apart(config, items, directory, *, variable, marker, reason):
    """Mark the tests under `directory` with `marker`, and skip them unless asked
    for: `variable`=1 (their make target) or a path under it on the command line."""
    base = Path(config.invocation_params.dir)
    named = [(base / arg.split("::", 1)[0]).resolve() for arg in config.args]
    run = os.environ.get(variable) == "1" or any(
        path.is_relative_to(directory) for path in named
    )
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if Path(item.path).is_relative_to(directory):
            item.add_marker(getattr(pytest.mark, marker))
            if not run:
                item.add_marker(skip)


def skip_or_fail(message):
    """A service the test needs is missing: skip it, but fail with CI=true."""
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def assert_error(response, status, code):
    """The response is the failure envelope with this status and code."""
    body = response.get_json()
    assert response.status_code == status, body
    assert body["success"] is False, body
    assert body["code"] == code, body
    assert isinstance(body["error"], str) and body["error"], body
    return body


def assert_ok(response, status=200):
    body = response.get_json()
    assert response.status_code == status, body
    assert body["success"] is True, body
    return body["data"]


def set_cookie_headers(response, name):
    """The Set-Cookie header lines for one cookie name."""
    return [
        value
        for value in response.headers.getlist("Set-Cookie")
        if value.startswith(f"{name}=")
    ]


def cookie_attributes(header):
    """Parse one Set-Cookie header into (value, {attribute: value-or-True})."""
    first, *rest = [part.strip() for part in header.split(";")]
    attributes = {}
    for part in rest:
        key, _, value = part.partition("=")
        attributes[key.lower()] = value or True
    return first.partition("=")[2], attributes


@contextmanager
def sent_statements(app, keep=lambda statement: True):
    """The SQL statements the app's engine sends inside the block (those `keep`s)."""
    from app.extensions import db

    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if keep(statement):
            sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def production_settings(**overrides):
    """Settings the production guard accepts (one worker, limits in memory)."""
    import secrets

    return {
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_WORKERS": 1,
        "BCRYPT_ROUNDS": 10,
        "FRONTEND_URL": "https://app.example.com",
        "MAIL_SERVER": "smtp.example.com",
        **overrides,
    }
