"""Fixtures: a fresh app and database per test, a client, users and logged-in callers.

SQLite by default (a file per test, so threads share a real database); with
TEST_DATABASE_URL set, each test gets its own PostgreSQL schema instead.
"""

import os
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import clock, create_app
from app.auth import passwords
from app.extensions import db
from app.models import User
from tests.helpers import sent_statements, skip_or_fail
from tests.mailserver import (  # noqa: F401  (fixtures and hook: a real SMTP server)
    closed_smtp_port,
    mail_settings,
    mailbox,
    smtp_server,
)
from tests.urls import AUTH, LOGIN, REGISTER

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
# With it set (CI's second pass: redis://127.0.0.1:6379), every app counts its rate
# limits in that storage, under a key prefix of its own test.
TEST_RATELIMIT_STORAGE_URI = os.environ.get("TEST_RATELIMIT_STORAGE_URI")
PASSWORD = "correct horse battery staple"


def pytest_report_header(config):
    return [
        f"database: {TEST_DATABASE_URL or 'sqlite (file per test)'}",
        f"rate-limit storage: {TEST_RATELIMIT_STORAGE_URI or 'memory://'}",
    ]


@pytest.fixture(scope="session")
def ratelimit_storage():
    """Settings for TEST_RATELIMIT_STORAGE_URI; unreachable: skip, or in CI fail."""
    if not TEST_RATELIMIT_STORAGE_URI:
        return {}
    import redis

    try:
        redis.Redis.from_url(TEST_RATELIMIT_STORAGE_URI, socket_timeout=2).ping()
    except redis.RedisError as error:
        skip_or_fail(f"TEST_RATELIMIT_STORAGE_URI unreachable: {error}")
    return {"RATELIMIT_STORAGE_URI": TEST_RATELIMIT_STORAGE_URI}


@pytest.fixture(scope="session")
def server_database():
    """The PostgreSQL of TEST_DATABASE_URL; unreachable: skip, or in CI fail."""
    if not TEST_DATABASE_URL:
        yield None
        return
    engine = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001
        engine.dispose()
        skip_or_fail(f"TEST_DATABASE_URL unreachable: {error}")
    yield engine
    engine.dispose()


@pytest.fixture
def database_url(tmp_path, server_database):
    """A database of this test's own: a SQLite file, or a fresh PostgreSQL schema."""
    if server_database is None:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with server_database.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(TEST_DATABASE_URL).update_query_dict(
        {"options": f"-csearch_path={schema}"}
    )
    yield url.render_as_string(hide_password=False)
    with server_database.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def marker_settings(request):
    settings = {}
    if request.node.get_closest_marker("ratelimit"):
        settings["RATELIMIT_ENABLED"] = True
    for marker in request.node.iter_markers("config"):
        settings = {**marker.kwargs, **settings}
    return settings


@pytest.fixture
def settings():
    """Extra settings a test (or module) adds; the `config` marker does the same."""
    return {}


@pytest.fixture
def secret_key():
    """This test's SECRET_KEY, shared by every app of the test like hosts of one
    deployment (refresh tokens and CSRF values derive from it)."""
    return secrets.token_urlsafe(48)


@pytest.fixture
def app(request, database_url, settings, ratelimit_storage, secret_key):
    overrides = {
        "APP_ENV": "testing",
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        **ratelimit_storage,
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex[:12]}",
        **marker_settings(request),
        **settings,
    }
    app = create_app(overrides)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def make_app(database_url, secret_key):
    """More apps on this test's database: make_app(**overrides); disposed after."""
    made = []

    def _make_app(**overrides):
        other = create_app(
            {
                "APP_ENV": "testing",
                "SECRET_KEY": secret_key,
                "SQLALCHEMY_DATABASE_URI": database_url,
                **overrides,
            }
        )
        made.append(other)
        return other

    yield _make_app
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def move_clock(monkeypatch):
    """Move the app's one clock forward: move_clock(seconds=11)."""
    offset = timedelta()
    real_now = clock.now

    def shifted():
        return real_now() + offset

    monkeypatch.setattr(clock, "now", shifted)

    def move(**delta):
        nonlocal offset
        offset += timedelta(**delta)

    return move


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """Create a user directly in the database: make_user(email=..., password=...)."""
    counter = iter(range(1, 10_000))

    def _make_user(**overrides):
        number = next(counter)
        password = overrides.pop("password", PASSWORD)
        values = {
            "name": f"User {number}",
            "email": f"user{number}@example.com",
            "password_hash": passwords.hash_password(
                password, app.config["BCRYPT_ROUNDS"]
            ),
            **overrides,
        }
        with app.app_context():
            user = User(**values)
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
        return user

    return _make_user


@dataclass
class Caller:
    """A logged-in client: its tokens and the headers to use them."""

    client: object
    user: dict
    access_token: str
    refresh_token: str | None = None
    csrf_token: str | None = None
    device_token: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def headers(self):
        return {"Authorization": f"Bearer {self.access_token}"}

    @property
    def refresh_headers(self):
        return {"Authorization": f"Bearer {self.refresh_token}"}


COOKIE_PATHS = {"refresh_token": AUTH, "csrf_refresh_token": "/"}


def cookie_value(client, name):
    """A cookie the test client holds, at the path the server sets it on."""
    cookie = client.get_cookie(name, path=COOKIE_PATHS.get(name, "/"))
    return cookie.value if cookie else None


class AuthActions:
    """Register and log in through the HTTP API, as a client would."""

    def __init__(self, app, smtp_box=None):
        self.app = app
        self.mailbox = smtp_box
        self.count = 0

    def register(
        self,
        *,
        mode="bearer",
        email=None,
        password=PASSWORD,
        name="Ada",
        keep_mail=False,
    ):
        self.count += 1
        client = self.app.test_client()
        email = email or f"ada{self.count}-{uuid.uuid4().hex[:6]}@example.com"
        headers = {"X-Auth-Mode": "bearer"} if mode == "bearer" else {}
        response = client.post(
            REGISTER,
            json={"name": name, "email": email, "password": password},
            headers=headers,
        )
        assert response.status_code == 201, response.get_json()
        if self.mailbox is not None and not keep_mail:
            self.mailbox.clear()
        return self._caller(client, response, mode, email, password)

    def login(self, email, password=PASSWORD, *, mode="bearer", client=None):
        client = client or self.app.test_client()
        headers = {"X-Auth-Mode": "bearer"} if mode == "bearer" else {}
        response = client.post(
            LOGIN,
            json={"email": email, "password": password},
            headers=headers,
        )
        assert response.status_code == 200, response.get_json()
        return self._caller(client, response, mode, email, password)

    def _caller(self, client, response, mode, email, password):
        data = response.get_json()["data"]
        user = data.get("user") or {k: data[k] for k in ("id", "name", "email")}
        return Caller(
            client=client,
            user=user,
            access_token=data["accessToken"],
            refresh_token=data.get("refreshToken"),
            csrf_token=cookie_value(client, "csrf_refresh_token")
            if mode == "cookie"
            else None,
            device_token=data.get("deviceToken"),
            extra={"email": email, "password": password, "mode": mode},
        )


@pytest.fixture
def statements(app):
    """The SQL statements the app sends while the test runs (BEGIN aside)."""
    # SQLite's BEGIN (app/database.py emits it) opens a transaction; no query.
    with sent_statements(app, lambda sql: not sql.startswith("BEGIN")) as sent:
        yield sent


@pytest.fixture
def auth(request, app):
    # With the test SMTP server in use, the verification mail of each registration
    # is delivered and dropped (register(keep_mail=True) keeps it): tests count the
    # mails of what they do next.
    smtp_box = (
        request.getfixturevalue("mailbox")
        if "mailbox" in request.fixturenames
        else None
    )
    return AuthActions(app, smtp_box=smtp_box)


@pytest.fixture
def promote(app, auth):
    """promote(caller): the caller signed in anew as admin (promotion ends sessions)."""
    runner = app.test_cli_runner()

    def _promote(caller):
        result = runner.invoke(args=["users", "promote", caller.extra["email"]])
        assert result.exit_code == 0, result.output
        return auth.login(caller.extra["email"])

    return _promote
