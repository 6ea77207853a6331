"""GET /health: 200 with every check ok, 503 naming the failing one, fast either way."""

import os
import socket
import time

import pytest
import redis

from tests.helpers import assert_error, assert_ok
from tests.servers import free_port
from tests.urls import HEALTH

BUDGET = 2.0  # seconds: the answer comes within this even when a dependency hangs
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def hung_port():
    """A port that accepts TCP connections and never says a word (a hung server)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # never accept(): the kernel completes the handshakes
        yield listener.getsockname()[1]


def timed_get(app, path=HEALTH):
    started = time.monotonic()
    response = app.test_client().get(path)
    return response, time.monotonic() - started


def test_health_ok_checks_the_database(client):
    response = client.get(HEALTH)
    data = assert_ok(response)
    assert data == {
        "status": "ok",
        "checks": {"database": "ok", "rateLimitStorage": "disabled"},
    }
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.ratelimit
def test_health_checks_memory_rate_limit_storage(client):
    data = assert_ok(client.get(HEALTH))
    assert data["checks"] == {"database": "ok", "rateLimitStorage": "ok"}


def test_health_is_outside_the_api_prefix(client):
    assert_error(client.get("/api/v1/health"), 404, "not_found")
    assert client.head(HEALTH).status_code == 200


def test_database_down_is_503_naming_it(make_app):
    app = make_app(
        SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x"
    )
    response, elapsed = timed_get(app)
    body = assert_error(response, 503, "unavailable")
    assert "database" in body["error"]
    assert body["details"] == {
        "status": "unavailable",
        "checks": {"database": "error", "rateLimitStorage": "disabled"},
    }
    assert elapsed < BUDGET


def test_hung_database_answers_503_within_budget(make_app, hung_port):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{hung_port}/x"
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    response, elapsed = timed_get(app)
    body = assert_error(response, 503, "unavailable")
    assert body["details"]["checks"]["database"] == "timeout"
    assert elapsed < BUDGET

    # The first probe is still stuck: the next call does not stack another one.
    response, elapsed = timed_get(app)
    assert_error(response, 503, "unavailable")
    assert response.get_json()["details"]["checks"]["database"] == "timeout"
    assert elapsed < 0.5


def test_rate_limit_storage_down_is_503_naming_it(make_app):
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0",
    )
    response, elapsed = timed_get(app)
    body = assert_error(response, 503, "unavailable")
    assert "rateLimitStorage" in body["error"]
    assert body["details"]["checks"] == {"database": "ok", "rateLimitStorage": "error"}
    assert elapsed < BUDGET


def test_hung_rate_limit_storage_answers_503_within_budget(make_app, hung_port):
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{hung_port}/0",
    )
    response, elapsed = timed_get(app)
    body = assert_error(response, 503, "unavailable")
    # Ours ("timeout") or the Redis client's socket timeout ("error"), if shorter.
    assert body["details"]["checks"]["rateLimitStorage"] in {"timeout", "error"}
    assert elapsed < BUDGET


def test_redis_rate_limit_storage_ok(make_app):
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis unreachable at {REDIS_URL}: {error}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}")
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=REDIS_URL)
    data = assert_ok(timed_get(app)[0])
    assert data["checks"] == {"database": "ok", "rateLimitStorage": "ok"}
