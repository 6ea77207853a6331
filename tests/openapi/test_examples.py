"""examples/curl-*.sh and httpie-*.sh, run for real against gunicorn (temp SQLite).

One server for the module; it starts, serves and stops within bounded times. Each
flow is tested with both tools: the HTTPie scripts do what the curl ones do.
"""

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import ROOT, run_gunicorn

EXAMPLES = ROOT / "examples"
SCRIPT_TIMEOUT = 60
# HTTPie (requirements-dev.txt) installs `http` next to the interpreter.
SEARCH_PATH = os.pathsep.join(
    [str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)]
)
COMMANDS = {"curl": "curl", "httpie": "http"}
# What each flavour of script runs, for the test without jq.
TOOLS = {
    "curl": ("bash", "curl", "awk", "cat", "mktemp", "rm", "date"),
    "httpie": ("bash", "http", "head", "cut", "sed", "mktemp", "rm", "date"),
}


def tool_param(tool):
    missing = shutil.which(COMMANDS[tool], path=SEARCH_PATH) is None
    return pytest.param(
        tool,
        id=tool,
        marks=pytest.mark.skipif(missing, reason=f"{COMMANDS[tool]} is not installed"),
    )


with_each_tool = pytest.mark.parametrize("tool", [tool_param(tool) for tool in TOOLS])

# The server has its own SQLite; the PostgreSQL pass would only repeat this.
pytestmark = [
    pytest.mark.live_server,
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
    env = {**os.environ, "PATH": SEARCH_PATH, "BASE_URL": base_url, **extra_env}
    result = subprocess.run(
        ["bash", str(EXAMPLES / name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@with_each_tool
def test_browser_flow_script(base_url, tool):
    output = run_example(f"{tool}-browser-flow.sh", base_url)
    assert "POST /auth/register -> 201" in output
    assert "POST /auth/refresh-token -> 200" in output
    assert "GET /users/me -> 200" in output
    assert "POST /auth/logout -> 200" in output
    # A jar may keep the expired cookie; either way the session is over.
    assert output.rstrip().endswith(("token_missing", "token_revoked"))


@with_each_tool
def test_browser_flow_script_logs_in_an_existing_account(base_url, tool):
    email = f"again-{secrets.token_hex(4)}@example.com"
    run_example(f"{tool}-browser-flow.sh", base_url, EMAIL=email)
    output = run_example(f"{tool}-browser-flow.sh", base_url, EMAIL=email)
    assert "POST /auth/register -> 409" in output
    assert "POST /auth/login -> 200" in output


@with_each_tool
def test_mobile_flow_script(base_url, tool):
    output = run_example(f"{tool}-mobile-flow.sh", base_url)
    assert "POST /auth/login -> 200" in output
    assert output.count("POST /auth/refresh-token -> 200") == 1
    assert "POST /auth/logout -> 200" in output
    assert output.rstrip().endswith("token_revoked")


@with_each_tool
def test_scripts_work_without_jq(base_url, tool, tmp_path):
    # Only the tools the scripts need, minus jq: the python3 fallback parses JSON.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for command in TOOLS[tool]:
        (bin_dir / command).symlink_to(shutil.which(command, path=SEARCH_PATH))
    (bin_dir / "python3").symlink_to(sys.executable)
    output = run_example(f"{tool}-mobile-flow.sh", base_url, PATH=str(bin_dir))
    assert "GET /users/me -> 200" in output
