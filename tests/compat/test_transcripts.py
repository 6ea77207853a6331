"""docs/compat.md's curl blocks run as a profile's users would paste them.

Each ```sh block of a profile's section runs in its own `bash -euo pipefail` with a
bare environment against gunicorn (all three profiles, development with DEV_MOCK, so
the documented demo users exist); only the documented address is swapped.
"""

import json
import os
import shutil
import subprocess
import uuid
from contextlib import contextmanager

import pytest
import requests
from sqlalchemy import create_engine, make_url, text

from tests.compat.conftest import ALL_PROFILES
from tests.docs.support import DOCS, code_blocks, read, sections
from tests.servers import run_gunicorn
from tests.urls import LOGIN, ME

COMPAT_MD = DOCS / "compat.md"
DOCUMENTED_URL = "http://localhost:8000"
BLOCK_TIMEOUT = 60

pytestmark = [
    pytest.mark.live_server,
    pytest.mark.skipif(
        shutil.which("curl") is None or shutil.which("jq") is None,
        reason="curl and jq are needed",
    ),
]


def profile_block(section):
    [block] = code_blocks(sections(read(COMPAT_MD), 2)[section], "sh")
    return block


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("compat")
    env = {
        "APP_ENV": "development",
        "DEV_MOCK": "true",
        "COMPAT_PROFILES": ALL_PROFILES,
        "COOKIE_SECURE": "false",
    }
    # Two workers: each seeds the demo users at start, one of them first.
    with live_database() as database_url:
        with run_gunicorn(
            workdir, workers=2, env=env, database_url=database_url
        ) as live:
            yield live


@contextmanager
def live_database():
    """None (gunicorn's own SQLite file), or a fresh schema of TEST_DATABASE_URL."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield None
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    schema = f"compat_live_{uuid.uuid4().hex[:12]}"
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def run_block(block, base_url, folder):
    """Run one block in a fresh shell; its output lines (JSON parsed when JSON)."""
    assert DOCUMENTED_URL in block
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.replace(DOCUMENTED_URL, base_url)],
        cwd=folder,
        env={"PATH": os.environ["PATH"], "HOME": str(folder)},
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = []
    for line in filter(str.strip, result.stdout.splitlines()):
        try:
            lines.append(json.loads(line))
        except ValueError:
            lines.append(line)
    return lines


def test_chirpy_documented_requests(server, tmp_path):
    lines = run_block(profile_block("chirpy"), server.url, tmp_path)
    assert len(lines) == 7, lines
    created, login, refreshed, me, revoked, message, status = lines
    assert created["email"] == "saul@example.com"
    assert created["is_chirpy_red"] is False
    assert {"token", "refresh_token"} <= set(login)
    assert set(refreshed) == {"token"}
    assert me["data"]["user"]["email"] == "saul@example.com"
    assert revoked == 204
    assert (message, status) == ("Token has been revoked.", 401)


def test_fastapi_mock_documented_requests(server, tmp_path):
    lines = run_block(profile_block("fastapi-mock"), server.url, tmp_path)
    assert len(lines) == 6, lines
    tokens, me, refreshed, logged_out, refused, status = lines
    assert tokens["token_type"] == "bearer"
    assert me["email"] == "alice@example.com"
    assert set(refreshed) == {"access_token", "token_type", "expires_in"}
    assert logged_out["success"] is True
    assert refused["code"] == "token_revoked"
    assert status == 401


def test_oauth2_documented_requests(server, tmp_path):
    lines = run_block(profile_block("oauth2"), server.url, tmp_path)
    assert len(lines) == 7, lines
    registered, pair, rotated, me, revoked, refused, status = lines
    assert registered["username"] == "john@example.com"
    assert pair["refresh_token"] != rotated["refresh_token"]
    assert me["name"] == "John Doe"
    assert revoked == 204
    assert refused["error"] == "Unauthorized" and status == 401


def test_dev_mock_documented_requests(server, tmp_path):
    lines = run_block(profile_block("Development mock mode"), server.url, tmp_path)
    assert lines[0].startswith("HTTP/1.1 503")
    assert {"success": False, "code": "unavailable"}.items() <= lines[-2].items()
    assert float(lines[-1]) >= 1.5


def test_a_token_revoked_through_api_v1_is_refused_by_each_profile(server):
    url = server.url
    body = {"email": "bob@example.com", "password": "mock-password-123"}
    chirpy = requests.post(f"{url}/api/login", json=body, timeout=10).json()
    mock = requests.post(f"{url}/api/auth/login", json=body, timeout=10).json()
    oauth2 = requests.post(f"{url}/auth/token/", json=body, timeout=10).json()
    v1 = requests.post(
        f"{url}{LOGIN}", json=body, headers={"X-Auth-Mode": "bearer"}, timeout=10
    ).json()["data"]
    # logout-all through /api/v1 ends the sessions opened through every profile.
    ended = requests.post(
        f"{url}/api/v1/auth/logout-all",
        headers={"Authorization": f"Bearer {v1['accessToken']}"},
        timeout=10,
    )
    assert ended.json()["data"]["revoked"] == 4
    refreshes = [
        requests.post(
            f"{url}/api/refresh",
            headers={"Authorization": f"Bearer {chirpy['refresh_token']}"},
            timeout=10,
        ),
        requests.post(
            f"{url}/api/auth/refresh",
            json={"refresh_token": mock["refresh_token"]},
            timeout=10,
        ),
        requests.post(
            f"{url}/auth/jwt/refresh/",
            json={"refresh_token": oauth2["refresh_token"]},
            timeout=10,
        ),
    ]
    assert [response.status_code for response in refreshes] == [401, 401, 401]
    for token in (chirpy["token"], mock["access_token"], oauth2["access_token"]):
        me = requests.get(
            f"{url}{ME}", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert me.status_code == 401
