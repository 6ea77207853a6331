"""Live servers for the end-to-end tests: the API under gunicorn, static sites.

Everything binds to 127.0.0.1 on a port the OS picks, waits a bounded time to come
up, and is stopped when its `with` block ends, whatever happened inside.
"""

import contextlib
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(rb"Listening at: http://127\.0\.0\.1:(\d+)")
START_TIMEOUT = 30
STOP_TIMEOUT = 15
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}


def api_environment(workdir, settings):
    """The API's environment: a development server with the test's settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"BIND", "DATABASE_URL", "TEST_DATABASE_URL"}
    }
    env.update(
        APP_ENV="development",
        FLASK_APP="wsgi.py",
        # Set explicitly: every worker must sign and verify with the same keys.
        SECRET_KEY=secrets.token_urlsafe(48),
        JWT_SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=f"sqlite:///{workdir / 'e2e.db'}",
        PROMETHEUS_MULTIPROC_DIR=str(workdir / "metrics"),
        BCRYPT_ROUNDS="4",
        RATELIMIT_ENABLED="false",
        HOST="127.0.0.1",
        PORT="0",
        WEB_CONCURRENCY="2",
        # gunicorn says where it listens at level info.
        LOG_LEVEL="INFO",
    )
    env.update({key: str(value) for key, value in settings.items()})
    return env


def log_tail(path, limit=4000):
    text = path.read_bytes().decode("utf-8", "replace") if path.exists() else ""
    return text[-limit:]


def wait_until_serving(process, log_path):
    """The URL once gunicorn says where it listens and /health answers 200."""
    deadline = time.monotonic() + START_TIMEOUT
    url = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early:\n{log_tail(log_path)}")
        if url is None:
            match = LISTENING.search(log_path.read_bytes())
            if match:
                url = f"http://127.0.0.1:{int(match.group(1))}"
        if url is not None:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    return url
        time.sleep(0.1)
    raise RuntimeError(
        f"gunicorn not serving in {START_TIMEOUT}s:\n{log_tail(log_path)}"
    )


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def gunicorn_api(workdir, **settings):
    """The API under gunicorn (project gunicorn.conf.py) on a fresh migrated SQLite.

    Yields its base URL; `settings` are extra environment variables.
    """
    env = api_environment(workdir, settings)
    migrate = subprocess.run(
        [sys.executable, "-m", "flask", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    if migrate.returncode != 0:
        output = (migrate.stdout + migrate.stderr).decode("utf-8", "replace")
        raise RuntimeError(f"flask db upgrade failed:\n{output[-4000:]}")
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
        yield wait_until_serving(process, log_path)
    finally:
        stop(process)


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


@contextlib.contextmanager
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
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(STOP_TIMEOUT)
