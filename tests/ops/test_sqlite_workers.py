"""SQLite under 4 gunicorn workers: a mixed load gives no 5xx, no "database is locked".

SQLite-specific, so it runs in the SQLite pass of the suite only.
"""

import os
import threading
import time
import uuid

import pytest
import requests

from tests.servers import run_gunicorn
from tests.urls import LOGIN, ME, REFRESH, REGISTER

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")),
    reason="SQLite-specific; runs in the SQLite pass",
)

CLIENTS = 4
DURATION = 10  # seconds of load
MAX_ROUNDS = 40  # per client: register + login + 2x(refresh, me)
BEARER = {"X-Auth-Mode": "bearer"}


def client_loop(url, stop_at, results, errors):
    """register, me, refresh, me, login, refresh, me... until the deadline."""
    # One connection per call: calls spread over the workers as separate clients do.

    def call(expected, method, path, **kwargs):
        headers = {**kwargs.pop("headers", {}), "Connection": "close"}
        response = requests.request(
            method, f"{url}{path}", headers=headers, timeout=30, **kwargs
        )
        results.append((path, response.status_code))
        if response.status_code != expected:
            errors.append((method, path, response.status_code, response.text[:300]))
            return None
        return response.json()["data"]

    try:
        for _ in range(MAX_ROUNDS):
            if time.monotonic() > stop_at:
                return
            email = f"load-{uuid.uuid4().hex[:12]}@example.com"
            password = f"pw-{uuid.uuid4().hex}"
            account = {"name": "Load", "email": email, "password": password}
            data = call(201, "POST", REGISTER, json=account, headers=BEARER)
            if data is None:
                continue
            access, refresh = data["accessToken"], data["refreshToken"]
            call(200, "GET", ME, headers=_bearer(access))
            data = call(200, "POST", REFRESH, headers=_bearer(refresh))
            if data is not None:
                access = data["accessToken"]
            call(200, "GET", ME, headers=_bearer(access))
            credentials = {"email": email, "password": password}
            data = call(200, "POST", LOGIN, json=credentials, headers=BEARER)
            if data is None:
                continue
            data = call(
                200,
                "POST",
                REFRESH,
                headers=_bearer(data["refreshToken"]),
            )
            if data is not None:
                call(200, "GET", ME, headers=_bearer(data["accessToken"]))
    except requests.RequestException as error:
        errors.append(("transport", type(error).__name__, str(error)[:300]))


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_four_workers_on_sqlite_mixed_load_no_5xx_no_lock_errors(tmp_path):
    with run_gunicorn(tmp_path, workers=4) as server:
        results, errors = [], []
        stop_at = time.monotonic() + DURATION
        threads = [
            threading.Thread(
                target=client_loop, args=(server.url, stop_at, results, errors)
            )
            for _ in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=DURATION + 60)
        output = server.output()

    assert not any(thread.is_alive() for thread in threads)
    assert len(results) >= 40, "the load was too small to mean anything"
    assert not errors, errors[:5]
    assert not [status for _, status in results if status >= 500]
    assert "database is locked" not in output
    assert "Traceback" not in output
    served_by = {
        line["pid"]
        for line in server.json_lines()
        if line.get("logger") == "app.request"
    }
    assert len(served_by) >= 2, "the load should reach several workers"
