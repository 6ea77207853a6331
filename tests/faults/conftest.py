"""Fault-test fixtures: a PostgreSQL cluster and a Redis of the tests' own, and the
API under a 2-worker gunicorn on both (with the test SMTP server).

These start real servers and break them, so plain `make test` skips them;
`make faults` (or naming tests/faults on the command line) runs them. Without
PostgreSQL's or Redis's programs they skip, except with CI=true, where they fail
(`make faults` installs them when root).
"""

import shutil
from pathlib import Path

import pytest

from tests.faults.dependencies import PostgresCluster, RedisServer, postgres_bin
from tests.helpers import run_apart, skip_or_fail
from tests.servers import run_gunicorn

FAULTS_DIR = Path(__file__).resolve().parent
ACCOUNT_LIMIT = 5
# The client-side deadlines, shortened so that the suite stays short; the bound a
# request must answer within follows from them (docs/operations.md#outages).
DEADLINES = {
    "DB_CONNECT_TIMEOUT": 2,
    "DB_POOL_TIMEOUT": 2,
    "DB_PING_TIMEOUT_MS": 1000,
    "DB_QUERY_TIMEOUT_MS": 2000,
    "RATELIMIT_STORAGE_TIMEOUT": 0.5,
}
# pool wait + ping + connect, or one query; and scheduling slack on a busy machine.
DATABASE_BOUND = 2 + 1 + 2 + 2.0
REDIS_BOUND = 0.5 + 1.5


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "faults: dependency outages against real servers (make faults)"
    )


def pytest_collection_modifyitems(config, items):
    # Under `make faults` (FAULTS=1) or when tests/faults is named.
    run_apart(
        config,
        items,
        FAULTS_DIR,
        variable="FAULTS",
        marker="faults",
        reason="dependency-outage test: run `make faults`",
    )


@pytest.fixture(scope="session")
def postgres():
    if not (postgres_bin("initdb") and postgres_bin("pg_ctl")):
        skip_or_fail(
            "PostgreSQL's initdb/pg_ctl not found (apt-get install postgresql)"
        )
    cluster = PostgresCluster()
    try:
        cluster.create().start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def redis_server():
    if not shutil.which("redis-server"):
        skip_or_fail("redis-server not found (apt-get install redis-server)")
    server = RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def api(tmp_path_factory, postgres, redis_server, smtp_server):
    """gunicorn, 2 workers, on that PostgreSQL, that Redis and the SMTP server."""
    env = {
        **DEADLINES,
        "GUNICORN_THREADS": 8,
        "RATELIMIT_ENABLED": "true",
        "RATELIMIT_STORAGE_URI": redis_server.url,
        "RATELIMIT_LOGIN_ACCOUNT": f"{ACCOUNT_LIMIT} per minute",
        "RATELIMIT_LOGIN": "10000 per minute",
        "RATELIMIT_REGISTER": "10000 per minute",
        "RATELIMIT_REFRESH": "10000 per minute",
        "RATELIMIT_PASSWORD_RESET_IP": "10000 per minute",
        "TRUSTED_PROXY_COUNT": 1,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_RETRY_BACKOFF_MS": 200,
        "MAIL_RETRY_MAX_DELAY": 1,
        "MAIL_POLL_INTERVAL": 0.5,
        # A mail whose sender lost the database mid-delivery is taken up again soon.
        "MAIL_LEASE_SECONDS": 5,
    }
    # WEB_CONCURRENCY says 1 and `-w 2` overrides it, as an operator may: the
    # memory fallback must divide by the workers gunicorn really runs.
    env["WEB_CONCURRENCY"] = 1
    workdir = tmp_path_factory.mktemp("faults")
    with run_gunicorn(
        workdir, workers=2, database_url=postgres.url, env=env, args=["-w", "2"]
    ) as server:
        yield server
