"""The live auth server and downstream services of tests/downstream, per module."""

import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DATABASE_URL
from tests.downstream.support import (
    AuthServer,
    auth_server_env,
    start_downstream,
)
from tests.helpers import run_apart
from tests.servers import free_port

DOWNSTREAM_DIR = Path(__file__).resolve().parent

# (what was revoked, service, seconds until the service refused): the summary line.
FIGURES = []


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "downstream: services trusting the verifier (make downstream)"
    )


def pytest_collection_modifyitems(config, items):
    # Under `make downstream` (DOWNSTREAM=1, the verifier installed) or when named.
    run_apart(
        config,
        items,
        DOWNSTREAM_DIR,
        variable="DOWNSTREAM",
        marker="downstream",
        reason="downstream services with the installed verifier: `make downstream`",
    )


@pytest.fixture(scope="module")
def server_database_url(server_database):
    """A fresh schema of TEST_DATABASE_URL's PostgreSQL, else None (a SQLite file)."""
    if server_database is None:
        yield None
        return
    schema = f"downstream_{uuid.uuid4().hex[:12]}"
    with server_database.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(TEST_DATABASE_URL).update_query_dict(
        {"options": f"-csearch_path={schema}"}
    )
    yield url.render_as_string(hide_password=False)
    with server_database.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory, smtp_server, server_database_url):
    workdir = tmp_path_factory.mktemp("auth-server")
    port = free_port()
    env = auth_server_env(workdir, port, smtp_server.port)
    if server_database_url:
        env["DATABASE_URL"] = server_database_url
    server = AuthServer(workdir, port, env)
    server.start()
    yield server
    server.kill()  # held polls would make a graceful stop wait for them


@pytest.fixture(scope="module")
def services(auth_server, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("downstream")
    started = []
    try:
        for name in ("flask", "fastapi"):
            started.append(start_downstream(name, workdir, auth_server.url))
        yield started
    finally:
        for service in started:
            service.stop()


@pytest.fixture
def figures():
    return FIGURES


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    terminalreporter.section("downstream revocation delay")
    for what, service, seconds in FIGURES:
        terminalreporter.write_line(
            f"{what:<22} {service:<8} refused after {seconds:.3f} s"
        )
    worst = max(seconds for _, _, seconds in FIGURES)
    terminalreporter.write_line(
        f"downstream refusal within {worst:.3f} s at worst "
        f"({len(FIGURES)} revocations measured, bound 1 s)"
    )
