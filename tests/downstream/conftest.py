"""The live auth server and downstream services of tests/downstream, per module."""

from pathlib import Path

import pytest

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
def auth_server(tmp_path_factory, smtp_server):
    workdir = tmp_path_factory.mktemp("auth-server")
    port = free_port()
    server = AuthServer(workdir, port, auth_server_env(workdir, port, smtp_server.port))
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
