"""Live servers for the tests, each on 127.0.0.1 on a port the OS picks.

`run_gunicorn` is the API under a real gunicorn (the project's gunicorn.conf.py) on a
freshly migrated database; `in_thread` runs an http.server-style server in a thread;
`static_site` serves a folder. Each waits a bounded time to come up and is stopped
when its `with` block ends, whatever happened inside.
"""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
MIGRATE_TIMEOUT = 120
START_TIMEOUT = 60
STOP_TIMEOUT = 15
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}


def free_port():
    """A port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(extra):
    """A test server's environment: testing, shared secrets, bcrypt 4, limits off."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PROMETHEUS_", "RATELIMIT_", "METRICS_", "CORS_"))
        and key not in {"BIND", "DATABASE_URL", "TEST_DATABASE_URL"}
    }
    env.update(
        APP_ENV="testing",
        # Set explicitly: every worker must sign and verify with the same keys.
        SECRET_KEY=secrets.token_urlsafe(48),
        JWT_SECRET_KEY=secrets.token_urlsafe(48),
        BCRYPT_ROUNDS="4",
        RATELIMIT_ENABLED="false",
        # gunicorn says where it listens and which workers boot at level info.
        LOG_LEVEL="INFO",
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


def migrate(database_url):
    """`flask db upgrade` on a database, as a deploy does before starting gunicorn."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=server_env({"DATABASE_URL": database_url}),
        capture_output=True,
        timeout=MIGRATE_TIMEOUT,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode("utf-8", "replace")
        raise RuntimeError(f"flask db upgrade failed:\n{output[-4000:]}")


@dataclass
class Server:
    url: str
    port: int
    process: subprocess.Popen
    log_path: Path

    def output(self):
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def json_lines(self):
        """Every log line that is a JSON object (all of them, when all is well)."""
        return json_lines(self.output())


def json_lines(text):
    """The lines of `text` that are JSON objects, parsed."""
    lines = []
    for line in text.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


@contextmanager
def run_gunicorn(workdir, *, workers, database_url=None, env=None, args=()):
    """The API under gunicorn with `workers` workers; yields a Server, always stopped.

    `database_url` (default: a new SQLite file in `workdir`) is migrated first; `env`
    adds or overrides environment variables, `args` are extra gunicorn options.
    """
    database_url = database_url or f"sqlite:///{workdir / 'server.db'}"
    migrate(database_url)
    environment = server_env(
        {
            "DATABASE_URL": database_url,
            "BIND": "127.0.0.1:0",
            "WEB_CONCURRENCY": workers,
            "PROMETHEUS_MULTIPROC_DIR": workdir / "metrics",
            **(env or {}),
        }
    )
    log_path = workdir / "gunicorn.log"
    # Its own control socket path is per user: parallel instances would clash.
    command = ["gunicorn", "-c", "gunicorn.conf.py", "--no-control-socket", *args]
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", *command, "wsgi:app"],
            cwd=ROOT,
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            # Its own process group: the workers are stopped with the master.
            start_new_session=True,
        )
    try:
        yield _wait_until_serving(process, log_path, workers)
    finally:
        _stop(process)


def _log_tail(log_path, limit=4000):
    return log_path.read_text(encoding="utf-8", errors="replace")[-limit:]


def _wait_until_serving(process, log_path, workers):
    """The Server once gunicorn listens, every worker booted and /health is 200."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early:\n{_log_tail(log_path)}")
        output = log_path.read_text(encoding="utf-8", errors="replace")
        listening = LISTENING.search(output)
        if listening and output.count("Booting worker") >= workers:
            port = int(listening.group(1))
            url = f"http://127.0.0.1:{port}"
            with suppress(requests.RequestException):
                if requests.get(f"{url}/health", timeout=2).status_code == 200:
                    return Server(url, port, process, log_path)
        time.sleep(0.1)
    raise RuntimeError(
        f"gunicorn not serving in {START_TIMEOUT}s:\n{_log_tail(log_path)}"
    )


def _stop(process):
    """SIGTERM to gunicorn's process group; SIGKILL if it is not gone in time."""
    if process.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)


def on_localhost(url):
    """The same server named `localhost`: what a browser test needs where an IP
    address will not do (a WebAuthn RP id, redirect URIs). The servers still listen
    on 127.0.0.1, which browsers and clients reach for `localhost`."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"localhost:{parts.port}"))


@contextmanager
def in_thread(server):
    """Run an http.server-style `server` in a thread; yields its URL; always stopped."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(STOP_TIMEOUT)


class StaticHandler(SimpleHTTPRequestHandler):
    """Files of one folder; `overrides` maps a path to generated content."""

    overrides = {}

    def do_GET(self):  # noqa: N802 (http.server's naming)
        path = self.path.split("?", 1)[0]
        if path not in self.overrides:
            return super().do_GET()
        body = self.overrides[path].encode()
        suffix = Path(path).suffix or ".html"
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPES.get(suffix, "text/plain"))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)
        return None

    def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
        pass


@contextmanager
def static_site(directory, overrides=None):
    """Serve a folder on 127.0.0.1 in a thread; yields its origin.

    `overrides` (path -> text) is read on every request, so the caller may fill it
    in after the site has started (the SPA's config.js needs the API's URL).
    """
    overrides = {} if overrides is None else overrides
    handler = type("Handler", (StaticHandler,), {"overrides": overrides})
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(handler, directory=str(directory))
    )
    with in_thread(server) as origin:
        yield origin
