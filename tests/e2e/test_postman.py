"""examples/postman's collection, run by newman against the API under gunicorn.

`make e2e` installs the pinned newman into .e2e-node/. Its own server, with the
default access-token lifetime: the collection does not refresh an expired token.
"""

import json
import os
import subprocess
import uuid

import pytest

from tests.helpers import skip_or_fail
from tests.servers import ROOT, run_gunicorn

COLLECTION = ROOT / "examples" / "postman" / "auth-server.postman_collection.json"
NEWMAN = ROOT / ".e2e-node" / "node_modules" / ".bin" / "newman"
RUN_TIMEOUT = 120


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("postman")
    # Plain http, so the cookies are not Secure and newman's jar sends them back.
    env = {"APP_ENV": "development", "COOKIE_SECURE": "false"}
    with run_gunicorn(workdir, workers=1, env=env) as server:
        yield server.url


@pytest.fixture(scope="module")
def newman():
    if not os.access(NEWMAN, os.X_OK):
        skip_or_fail(f"newman not found at {NEWMAN}: `make e2e` installs it")
    return NEWMAN


def collection_requests(items):
    """The names of the collection's requests, folders flattened, in run order."""
    names = []
    for item in items:
        names += collection_requests(item["item"]) if "item" in item else [item["name"]]
    return names


def run_collection(newman, base_url, report, *env_vars):
    command = [
        str(newman),
        "run",
        str(COLLECTION),
        "--env-var",
        f"baseUrl={base_url}",
        *[arg for env_var in env_vars for arg in ("--env-var", env_var)],
        "--reporters",
        "cli,json",
        "--reporter-json-export",
        str(report),
        "--color",
        "off",
        "--timeout-request",
        "10000",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    return result, json.loads(report.read_text(encoding="utf-8"))["run"]


def assert_every_request_passed(result, run):
    assert result.returncode == 0, result.stdout + result.stderr
    assert run["failures"] == [], result.stdout
    assert run["stats"]["assertions"]["failed"] == 0
    assert run["stats"]["assertions"]["total"] > 0
    expected = collection_requests(json.loads(COLLECTION.read_text())["item"])
    ran = [execution["item"]["name"] for execution in run["executions"]]
    assert ran == expected
    assert all("requestError" not in execution for execution in run["executions"])
    assert all(execution["assertions"] for execution in run["executions"])


def test_both_flows_pass(newman, base_url, tmp_path):
    email = f"postman-{uuid.uuid4().hex[:8]}@example.com"
    report = tmp_path / "newman.json"
    result, run = run_collection(newman, base_url, report, f"email={email}")
    assert_every_request_passed(result, run)
    codes = [execution["response"]["code"] for execution in run["executions"]]
    assert codes == [201, 200, 200, 200, 200, 401, 200, 200, 200, 401]


def test_each_run_registers_its_own_account(newman, base_url, tmp_path):
    for attempt in ("first", "second"):
        result, run = run_collection(newman, base_url, tmp_path / f"{attempt}.json")
        assert_every_request_passed(result, run)


def test_a_taken_email_fails_the_run(newman, base_url, tmp_path):
    email = f"taken-{uuid.uuid4().hex[:8]}@example.com"
    run_collection(newman, base_url, tmp_path / "first.json", f"email={email}")
    result, run = run_collection(
        newman, base_url, tmp_path / "again.json", f"email={email}"
    )
    assert result.returncode == 1
    assert run["stats"]["assertions"]["failed"] > 0
    assert run["executions"][0]["response"]["code"] == 409
