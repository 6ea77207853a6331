"""The auth server and two downstream services (Flask, FastAPI), each a process.

The auth server runs under gunicorn (tests/servers.py) on a fixed port and a
SQLite file, so it can be stopped and started again at the same address; the
downstream services trust it through the installed `auth_verifier` package.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.auth.keys.support import key_pair
from tests.servers import ROOT, free_port, run_gunicorn, server_env

PASSWORD = "correct horse battery staple"
BEARER = {"X-Auth-Mode": "bearer"}
START_TIMEOUT = 30
ALGORITHM = "EdDSA"


@dataclass
class AuthServer:
    """The API under gunicorn; `restart` keeps its port, database and keys."""

    workdir: Path
    port: int
    env: dict
    stack: ExitStack = field(default_factory=ExitStack)
    server: object = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, **changes):
        self.env.update(changes)
        self.server = self.stack.enter_context(
            run_gunicorn(
                self.workdir,
                workers=2,
                database_url=self.env["DATABASE_URL"],
                env=self.env,
            )
        )
        return self

    def kill(self):
        """Gone at once (SIGKILL), as a crashed host; held polls break off."""
        with suppress(ProcessLookupError):
            os.killpg(self.server.process.pid, signal.SIGKILL)
        self.server.process.wait(10)
        self.stack.close()
        self.stack = ExitStack()

    def pause(self):
        """Hung (SIGSTOP): connections are accepted by the kernel, never answered."""
        os.killpg(self.server.process.pid, signal.SIGSTOP)

    def resume(self):
        os.killpg(self.server.process.pid, signal.SIGCONT)

    def restart(self, **changes):
        self.kill()
        return self.start(**changes)

    def flask(self, *args):
        """A `flask` command of the server's app, on its database."""
        env = server_env(self.env)
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr.decode()[-2000:]

    # Clients of the API ------------------------------------------------------

    def register(self):
        email = f"ada-{uuid.uuid4().hex[:10]}@example.com"
        answer = requests.post(
            f"{self.url}/api/v1/auth/register",
            json={"name": "Ada", "email": email, "password": PASSWORD},
            headers=BEARER,
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        return email, answer.json()["data"]

    def login(self, email):
        answer = requests.post(
            f"{self.url}/api/v1/auth/login",
            json={"email": email, "password": PASSWORD},
            headers=BEARER,
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]

    def post(self, path, token=None, **kwargs):
        headers = {**BEARER, **({"Authorization": f"Bearer {token}"} if token else {})}
        return requests.post(f"{self.url}{path}", headers=headers, timeout=10, **kwargs)


def auth_server_env(workdir, port, smtp_port):
    private_pem, _ = key_pair(ALGORITHM, 0)
    return {
        "DATABASE_URL": f"sqlite:///{workdir / 'auth.db'}",
        "BIND": f"127.0.0.1:{port}",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_ALGORITHM": ALGORITHM,
        "JWT_PRIVATE_KEY": private_pem,
        # A rotated refresh token presented again is reuse at once.
        "REFRESH_REUSE_GRACE_SECONDS": 0,
        "JWKS_MAX_AGE": 1,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "MAIL_RETRY_BACKOFF_MS": 100,
        "MAIL_POLL_INTERVAL": 0.2,
        "FRONTEND_URL": "http://app.example",
    }


@dataclass
class Downstream:
    name: str
    url: str
    process: subprocess.Popen
    log_path: Path

    def get(self, path, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(f"{self.url}{path}", headers=headers, timeout=10)

    def reason_of(self, token):
        """Why the service refused `token` (FastAPI nests it in `detail`)."""
        body = self.get("/me", token).json()
        return body.get("reason") or body["detail"]["reason"]

    def status_of(self, token):
        return self.get("/me", token).status_code

    def state(self):
        return self.get("/verifier").json()

    def log(self):
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self):
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def downstream_command(name, port):
    if name == "flask":
        return [
            sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "8",
            "--bind", f"127.0.0.1:{port}", "--no-control-socket",
            "tests.downstream.flask_service:app",
        ]  # fmt: skip
    return [
        sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "tests.downstream.fastapi_service:app",
    ]  # fmt: skip


def start_downstream(name, workdir, auth_url, **settings):
    """A downstream service in its own process, once its verifier has synced."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "TEST_"))
    }
    env.update(AUTH_SERVER_URL=auth_url, POLL_WAIT="20", BACKOFF_MAX="1")
    env.update({key: str(value) for key, value in settings.items()})
    log_path = workdir / f"{name}.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            downstream_command(name, port),
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    service = Downstream(name, f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited:\n{service.log()[-3000:]}")
        with suppress(requests.RequestException):
            # The Flask service starts its verifier lazily: one refused call does it.
            service.status_of("x")
            if not service.state()["feed_stale"]:
                return service
        time.sleep(0.1)
    service.stop()
    raise RuntimeError(f"{name} not ready:\n{service.log()[-3000:]}")


def wait_for_refusal(service, token, *, timeout=5.0):
    """Seconds until `service` refuses `token` (401), polled every 10 ms."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if service.status_of(token) == 401:
            return time.monotonic() - began
        time.sleep(0.01)
    raise AssertionError(f"{service.name} still accepts the token after {timeout}s")


def token_of(link):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["token"][0]
