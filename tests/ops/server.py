"""A real gunicorn (the project's gunicorn.conf.py) on a free 127.0.0.1 port."""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

BASE_DIR = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def migrate(database_url):
    """`flask db upgrade` on a database, as a deploy does before starting gunicorn."""
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=BASE_DIR,
        env=server_env({"DATABASE_URL": database_url}),
        check=True,
        capture_output=True,
        timeout=60,
    )


def server_env(extra):
    """A test server's environment: testing, shared secrets, bcrypt 4, limits off."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PROMETHEUS_", "RATELIMIT_", "METRICS_", "CORS_"))
    }
    env.update(
        APP_ENV="testing",
        SECRET_KEY=secrets.token_urlsafe(48),
        JWT_SECRET_KEY=secrets.token_urlsafe(48),
        BCRYPT_ROUNDS="4",
        RATELIMIT_ENABLED="false",
        LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: Path

    def output(self):
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def json_lines(self):
        """Every log line that is a JSON object (all of them, when all is well)."""
        lines = []
        for line in self.output().splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
        return lines


def _wait_ready(url, process, deadline):
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return False


def _stop(process):
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@contextmanager
def run_gunicorn(tmp_path, *, workers, env=None):
    """Start gunicorn with `workers` workers; stop it (always) when the block ends."""
    port = free_port()
    log_path = tmp_path / "server.log"
    environment = server_env(
        {"BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers), **(env or {})}
    )
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "gunicorn.conf.py",
                "--no-control-socket",
                "wsgi:app",
            ],
            cwd=BASE_DIR,
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        if not _wait_ready(server.url, process, time.monotonic() + 30):
            raise RuntimeError(f"gunicorn did not start:\n{server.output()[-4000:]}")
        yield server
    finally:
        _stop(process)
