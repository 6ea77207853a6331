"""examples/curl-*.sh run for real against gunicorn (free port, temp SQLite).

One server for the module; it starts, serves and stops within bounded times.
"""

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
LISTENING = re.compile(rb"Listening at: http://127\.0\.0\.1:(\d+)")
START_TIMEOUT = 30
SCRIPT_TIMEOUT = 60

pytestmark = [
    pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed"),
    # The server has its own SQLite; the PostgreSQL pass would only repeat this.
    pytest.mark.skipif(
        bool(os.environ.get("TEST_DATABASE_URL")), reason="runs on the SQLite pass"
    ),
]


def server_environment(workdir):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"BIND", "DATABASE_URL", "TEST_DATABASE_URL"}
    }
    env.update(
        APP_ENV="development",
        FLASK_APP="wsgi.py",
        SECRET_KEY=secrets.token_urlsafe(48),
        JWT_SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=f"sqlite:///{workdir / 'examples.db'}",
        PROMETHEUS_MULTIPROC_DIR=str(workdir / "metrics"),
        BCRYPT_ROUNDS="4",
        RATELIMIT_ENABLED="false",
        COOKIE_SECURE="false",
        HOST="127.0.0.1",
        PORT="0",
        WEB_CONCURRENCY="1",
        LOG_LEVEL="INFO",
    )
    return env


def wait_for_url(process, log_path):
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited:\n{log_path.read_text()[-3000:]}")
        match = LISTENING.search(log_path.read_bytes())
        if match:
            url = f"http://127.0.0.1:{match.group(1).decode()}"
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        return url
        time.sleep(0.1)
    pytest.fail(f"gunicorn did not serve in {START_TIMEOUT}s")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("examples")
    env = server_environment(workdir)
    subprocess.run(
        [sys.executable, "-m", "flask", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    log_path = workdir / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield wait_for_url(process, log_path)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(15)


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
