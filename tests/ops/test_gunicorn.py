"""The app behind a real gunicorn: metrics add up across workers, no server version."""

import re
import uuid

import requests

from tests.ops.test_metrics import parse, value
from tests.servers import run_gunicorn
from tests.urls import LOGIN

MAX_LOGINS = 300


def login_pids(server):
    return {
        line["pid"]
        for line in server.json_lines()
        if line.get("logger") == "app.request" and line.get("path") == LOGIN
    }


def test_metrics_add_up_across_two_workers(tmp_path, database_url):
    metrics_dir = tmp_path / "metrics"
    env = {"PROMETHEUS_MULTIPROC_DIR": metrics_dir}
    with run_gunicorn(
        tmp_path, workers=2, database_url=database_url, env=env
    ) as server:
        account = {
            "name": "Ada",
            "email": f"ada-{uuid.uuid4().hex[:8]}@example.com",
            "password": "correct horse battery staple",
        }
        registered = requests.post(
            f"{server.url}/api/v1/auth/register",
            json=account,
            headers={"X-Auth-Mode": "bearer"},
            timeout=10,
        )
        assert registered.status_code == 201
        credentials = {"email": account["email"], "password": account["password"]}
        # A new connection per login, until both workers have answered some.
        logins = 0
        while logins < MAX_LOGINS and (logins < 10 or len(login_pids(server)) < 2):
            response = requests.post(
                f"{server.url}{LOGIN}",
                json=credentials,
                headers={"X-Auth-Mode": "bearer", "Connection": "close"},
                timeout=10,
            )
            assert response.status_code == 200
            logins += 1
        assert len(login_pids(server)) == 2, "one worker answered every login"

        scraped = parse(requests.get(f"{server.url}/metrics", timeout=10).text)

    assert value(scraped, "auth_logins_total", result="ok") == logins
    assert (
        value(
            scraped, "http_requests_total", endpoint=LOGIN, method="POST", status="200"
        )
        == logins
    )
    assert (
        value(
            scraped,
            "http_request_duration_seconds_count",
            endpoint=LOGIN,
            method="POST",
        )
        == logins
    )
    assert any(metrics_dir.glob("*.db"))


def test_real_server_headers_carry_no_version(tmp_path, database_url):
    with run_gunicorn(tmp_path, workers=1, database_url=database_url) as server:
        ok = requests.get(f"{server.url}/health", timeout=10)
        missing = requests.get(f"{server.url}/nope", timeout=10)
    for response in (ok, missing):
        server_header = response.headers.get("Server", "")
        assert not re.search(r"\d", server_header), server_header
        assert "python" not in server_header.lower()
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Content-Security-Policy"] == (
            "default-src 'none'; frame-ancestors 'none'"
        )
    assert ok.status_code == 200
    assert missing.status_code == 404
