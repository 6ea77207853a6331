"""What one request costs the shared servers: database statements and Redis round
trips per /users/me, refresh, login and register (docs/operations.md#capacity).

Counted at the client side (SQLAlchemy's cursor events, redis-py's connection), with
the rate limits on, as production runs. A change that adds a query or a Redis call
to one of these requests fails here; update the figures in docs/operations.md with it.
"""

import pytest
import redis.connection
from sqlalchemy import event

from app.extensions import db
from tests.conftest import TEST_RATELIMIT_STORAGE_URI
from tests.urls import LOGIN, ME, REFRESH, REGISTER

pytestmark = pytest.mark.ratelimit

# (database statements, commits, Redis round trips) per request, the same on SQLite
# and PostgreSQL (BEGIN is not counted: SQLite's is a statement, PostgreSQL's is
# not). Redis: none with memory:// limits (the SQLite suite); the PostgreSQL suite
# runs with TEST_RATELIMIT_STORAGE_URI (Redis), as production does.
EXPECTED = {
    "register": (7, 1, 2),
    "login": (4, 1, 3),
    "me": (1, 0, 0),
    "refresh": (2, 1, 2),
}


class Counter:
    def __init__(self, monkeypatch, engine):
        self.statements = []
        self.commits = 0
        self.redis_calls = 0
        event.listen(engine, "before_cursor_execute", self.on_statement)
        event.listen(engine, "commit", self.on_commit)
        self.engine = engine
        send = redis.connection.AbstractConnection.send_packed_command

        def counted(connection, command, *args, **kwargs):
            self.redis_calls += 1
            return send(connection, command, *args, **kwargs)

        monkeypatch.setattr(
            redis.connection.AbstractConnection, "send_packed_command", counted
        )

    def on_statement(self, conn, cursor, statement, parameters, context, many):
        self.statements.append(statement.split()[0].upper())

    def on_commit(self, conn):
        self.commits += 1

    def reset(self):
        self.statements.clear()
        self.commits = 0
        self.redis_calls = 0

    def figures(self):
        """(statements, commits, Redis round trips); SQLite's BEGIN is a statement."""
        statements = [s for s in self.statements if s != "BEGIN"]
        return len(statements), self.commits, self.redis_calls

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self.on_statement)
        event.remove(self.engine, "commit", self.on_commit)


@pytest.fixture
def counter(app, monkeypatch):
    with app.app_context():
        engine = db.engine
    counting = Counter(monkeypatch, engine)
    yield counting
    counting.close()


def measure(counter, call):
    counter.reset()
    response = call()
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return response, counter.figures()


def test_statements_and_redis_calls_per_request(client, counter):
    bearer = {"X-Auth-Mode": "bearer"}
    body = {
        "name": "Ada",
        "email": "capacity@example.com",
        "password": "correct horse battery",
    }
    measured = {}
    # A first request warms what a worker does once (its device key, the pool).
    client.get("/health")
    response, measured["register"] = measure(
        counter, lambda: client.post(REGISTER, json=body, headers=bearer)
    )
    response, measured["login"] = measure(
        counter,
        lambda: client.post(
            LOGIN,
            json={"email": body["email"], "password": body["password"]},
            headers=bearer,
        ),
    )
    tokens = response.get_json()["data"]
    access = {"Authorization": f"Bearer {tokens['accessToken']}"}
    _, measured["me"] = measure(counter, lambda: client.get(ME, headers=access))
    refresh = {**bearer, "Authorization": f"Bearer {tokens['refreshToken']}"}
    _, measured["refresh"] = measure(
        counter, lambda: client.post(REFRESH, headers=refresh)
    )
    redis_in_use = bool(TEST_RATELIMIT_STORAGE_URI)
    expected = {
        name: (statements, commits, calls if redis_in_use else 0)
        for name, (statements, commits, calls) in EXPECTED.items()
    }
    assert measured == expected, counter.statements
