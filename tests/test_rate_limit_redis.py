"""Two gunicorn workers share one limit through the real Redis at 127.0.0.1:6379.

Skipped when no Redis answers locally; with CI=true that is a failure instead.
"""

import http.client
import json
import re
import time
import uuid

import pytest
import redis

from tests.helpers import skip_or_fail
from tests.servers import run_gunicorn
from tests.urls import LOGIN

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
IP_LIMIT, ACCOUNT_LIMIT = 5, 3
PHASE_SECONDS = 30


@pytest.fixture(scope="module")
def redis_client():
    client = redis.Redis(
        host=REDIS_HOST, port=REDIS_PORT, socket_timeout=2, socket_connect_timeout=2
    )
    try:
        client.ping()
    except redis.RedisError as error:
        client.close()
        skip_or_fail(f"no Redis at {REDIS_HOST}:{REDIS_PORT}: {error}")
    yield client
    client.close()


@pytest.fixture
def key_prefix(redis_client):
    """A prefix of this run's own; its counters are deleted afterwards."""
    prefix = f"test-{uuid.uuid4().hex}"
    yield prefix
    keys = list(redis_client.scan_iter(match=f"*{prefix}*", count=1000))
    if keys:
        redis_client.delete(*keys)


def post_login(port, email, forwarded_for):
    """One login on a new connection, so that either worker may take it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = json.dumps({"email": email, "password": "wrong password"})
        connection.request(
            "POST",
            LOGIN,
            body=body,
            headers={
                "Content-Type": "application/json",
                "Connection": "close",
                "X-Forwarded-For": forwarded_for,
            },
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.fixture
def gunicorn_server(tmp_path, key_prefix):
    """gunicorn with the project's gunicorn.conf.py, 2 workers; always stopped."""
    env = {
        "GUNICORN_THREADS": "2",
        "TRUSTED_PROXY_COUNT": "1",
        "RATELIMIT_ENABLED": "true",
        "RATELIMIT_STORAGE_URI": f"redis://{REDIS_HOST}:{REDIS_PORT}",
        "RATELIMIT_KEY_PREFIX": key_prefix,
        "RATELIMIT_LOGIN": f"{IP_LIMIT} per hour",
        "RATELIMIT_LOGIN_ACCOUNT": f"{ACCOUNT_LIMIT} per hour",
    }
    access_log = tmp_path / "access.log"
    # The access log names the worker (pid) that served each request.
    args = ["--access-logfile", str(access_log), "--access-logformat", "%(p)s %(U)s"]
    with run_gunicorn(tmp_path, workers=2, env=env, args=args) as server:
        yield server.port, WorkerLog(access_log, server.log_path)


PID_PATTERNS = (
    # gunicorn's access log, when gunicorn.conf.py leaves it on (format below)
    re.compile(r"^<(\d+)> /api/v1/auth/login$"),
    # the app's own JSON request lines, when the access log is off
    re.compile(r'^\{.*"pid": (\d+).*"path": "/api/v1/auth/login"'),
)


class WorkerLog:
    """Which worker pids served login requests, from the logs, since a mark."""

    def __init__(self, *paths):
        self.paths = paths
        self.marks = {}

    def lines(self, path):
        return path.read_text().splitlines() if path.exists() else []

    def mark(self):
        self.marks = {path: len(self.lines(path)) for path in self.paths}

    def pids(self):
        found = set()
        for path in self.paths:
            for line in self.lines(path)[self.marks.get(path, 0) :]:
                for pattern in PID_PATTERNS:
                    match = pattern.match(line)
                    if match:
                        found.add(match.group(1))
        return found


def count_statuses(port, worker_log, limit, request_args):
    """Send logins until some were refused and both workers served this phase."""
    worker_log.mark()
    statuses = []
    deadline = time.monotonic() + PHASE_SECONDS
    for args in request_args:
        status, body = post_login(port, *args)
        assert status in (401, 429), body
        if status == 429:
            assert body["code"] == "rate_limited"
        statuses.append(status)
        if len(statuses) >= limit + 3 and len(worker_log.pids()) >= 2:
            return statuses
        assert time.monotonic() < deadline, f"no conclusion after {statuses}"
    pytest.fail(f"one worker served every request: {statuses}", pytrace=False)


def test_two_gunicorn_workers_share_one_limit_in_redis(gunicorn_server):
    port, worker_log = gunicorn_server

    # Per client IP: one IP (through the trusted proxy header), a new email each time.
    ip_requests = (
        (f"user{n}@example.com", "203.0.113.10") for n in range(IP_LIMIT + 200)
    )
    statuses = count_statuses(port, worker_log, IP_LIMIT, ip_requests)
    assert statuses.count(401) == IP_LIMIT, statuses
    assert statuses[:IP_LIMIT] == [401] * IP_LIMIT
    assert set(statuses[IP_LIMIT:]) == {429}

    # Per account: one email, a new IP each time.
    account_requests = (
        ("Ada@Example.com", f"198.51.100.{n % 250}") for n in range(ACCOUNT_LIMIT + 200)
    )
    statuses = count_statuses(port, worker_log, ACCOUNT_LIMIT, account_requests)
    assert statuses.count(401) == ACCOUNT_LIMIT, statuses
    assert set(statuses[ACCOUNT_LIMIT:]) == {429}
