"""examples/curl-*.sh run for real against gunicorn (free port, temp SQLite).

One server for the module; it starts, serves and stops within bounded times.
"""

import os
import secrets
import shutil
import subprocess
import sys

import pytest

from tests.servers import ROOT, run_gunicorn

EXAMPLES = ROOT / "examples"
SCRIPT_TIMEOUT = 60

pytestmark = [
    pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed"),
    # The server has its own SQLite; the PostgreSQL pass would only repeat this.
    pytest.mark.skipif(
        bool(os.environ.get("TEST_DATABASE_URL")), reason="runs on the SQLite pass"
    ),
]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("examples")
    # A development server on plain http, so its cookies are not Secure.
    env = {"APP_ENV": "development", "COOKIE_SECURE": "false"}
    with run_gunicorn(workdir, workers=1, env=env) as server:
        yield server.url


def run_example(name, base_url, **extra_env):
    env = {**os.environ, "BASE_URL": base_url, **extra_env}
    result = subprocess.run(
        ["bash", str(EXAMPLES / name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_browser_flow_script(base_url):
    output = run_example("curl-browser-flow.sh", base_url)
    assert "POST /auth/register -> 201" in output
    assert "POST /auth/refresh-token -> 200" in output
    assert "GET /users/me -> 200" in output
    assert "POST /auth/logout -> 200" in output
    # curl may keep the expired cookie in its jar; either way the session is over.
    assert output.rstrip().endswith(("token_missing", "token_revoked"))


def test_browser_flow_script_logs_in_an_existing_account(base_url):
    email = f"again-{secrets.token_hex(4)}@example.com"
    run_example("curl-browser-flow.sh", base_url, EMAIL=email)
    output = run_example("curl-browser-flow.sh", base_url, EMAIL=email)
    assert "POST /auth/register -> 409" in output
    assert "POST /auth/login -> 200" in output


def test_mobile_flow_script(base_url):
    output = run_example("curl-mobile-flow.sh", base_url)
    assert "POST /auth/login -> 200" in output
    assert output.count("POST /auth/refresh-token -> 200") == 1
    assert "POST /auth/logout -> 200" in output
    assert output.rstrip().endswith("token_revoked")


def test_scripts_work_without_jq(base_url, tmp_path):
    # Only the tools the scripts need, minus jq: the python3 fallback parses JSON.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "curl", "awk", "cat", "mktemp", "rm", "date"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    (bin_dir / "python3").symlink_to(sys.executable)
    output = run_example("curl-mobile-flow.sh", base_url, PATH=str(bin_dir))
    assert "GET /users/me -> 200" in output
