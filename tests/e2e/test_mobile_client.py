"""examples/mobile_client.py, run as a user would, against the API under gunicorn."""

import json
import os
import stat
import subprocess
import sys
import time

import jwt

from tests.e2e.conftest import ACCESS_TOKEN_TTL, PASSWORD
from tests.servers import ROOT
from tests.urls import REFRESH

CLIENT = ROOT / "examples" / "mobile_client.py"


def run_client(live, token_file, *args, password=None, mfa_code=None):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("AUTH_PASSWORD", "AUTH_MFA_CODE")
    }
    if password is not None:
        env["AUTH_PASSWORD"] = password
    if mfa_code is not None:
        env["AUTH_MFA_CODE"] = mfa_code
    return subprocess.run(
        [
            sys.executable,
            str(CLIENT),
            "--base-url",
            live.api,
            "--token-file",
            str(token_file),
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


def stored(token_file):
    return json.loads(token_file.read_text())


def test_login_me_refresh_with_rotation_and_logout(live, new_user, api, tmp_path):
    email = new_user()
    token_file = tmp_path / "tokens.json"

    login = run_client(live, token_file, "login", email, password=PASSWORD)
    assert login.returncode == 0, login.stderr
    assert email in login.stdout
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    first = stored(token_file)
    # Secrets stay in the file, never on the terminal.
    assert first["refreshToken"] not in login.stdout + login.stderr

    me = run_client(live, token_file, "me")
    assert me.returncode == 0, me.stderr
    assert json.loads(me.stdout)["email"] == email
    assert stored(token_file) == first

    # The access token expires: `me` refreshes unnoticed, and the refresh token rotates.
    time.sleep(ACCESS_TOKEN_TTL + 1)
    me = run_client(live, token_file, "me")
    assert me.returncode == 0, me.stderr
    assert json.loads(me.stdout)["email"] == email
    second = stored(token_file)
    assert second["refreshToken"] != first["refreshToken"]
    assert second["accessToken"] != first["accessToken"]
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

    logout = run_client(live, token_file, "logout")
    assert logout.returncode == 0, logout.stderr
    assert not token_file.exists()
    # The session is over on the server too, not only forgotten by the client (its
    # refresh token: the access token may have expired meanwhile, ACCESS_TOKEN_TTL).
    response = api.post(
        REFRESH,
        headers={
            "Authorization": f"Bearer {second['refreshToken']}",
            "X-Auth-Mode": "bearer",
        },
    )
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"

    me = run_client(live, token_file, "me")
    assert me.returncode == 1
    assert "not logged in" in me.stderr


def test_wrong_password_stores_nothing(live, new_user, tmp_path):
    email = new_user()
    token_file = tmp_path / "tokens.json"
    login = run_client(live, token_file, "login", email, password="not the password")
    assert login.returncode == 1
    assert "invalid_credentials" in login.stderr
    assert not token_file.exists()


def test_token_file_replaced_with_mode_0600_even_if_it_was_wider(
    live, new_user, tmp_path
):
    email = new_user()
    token_file = tmp_path / "tokens.json"
    token_file.write_text("{}")
    token_file.chmod(0o644)
    login = run_client(live, token_file, "login", email, password=PASSWORD)
    assert login.returncode == 0, login.stderr
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert list(tmp_path.iterdir()) == [token_file]


def test_login_with_two_factor_sign_in(live, new_mfa_user, tmp_path):
    user = new_mfa_user()
    token_file = tmp_path / "tokens.json"
    login = run_client(
        live,
        token_file,
        "login",
        user.email,
        password=PASSWORD,
        mfa_code=user.next_code(),
    )
    assert login.returncode == 0, login.stderr
    assert user.email in login.stdout
    tokens = stored(token_file)
    claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
    assert claims["amr"] == ["pwd", "otp"]
    me = run_client(live, token_file, "me")
    assert me.returncode == 0, me.stderr
    assert json.loads(me.stdout)["mfaEnabled"] is True


def test_a_wrong_second_factor_stores_nothing(live, new_mfa_user, tmp_path):
    user = new_mfa_user()
    token_file = tmp_path / "tokens.json"
    login = run_client(
        live,
        token_file,
        "login",
        user.email,
        password=PASSWORD,
        mfa_code="aaaa-bbbb-cccc-dddd",
    )
    assert login.returncode == 1
    assert "invalid_mfa_code" in login.stderr
    assert not token_file.exists()
