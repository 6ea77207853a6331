"""The oauth2 profile: the password-grant shape, rotating sessions, its errors."""

import pytest

from tests.auth.flows import FRONTEND_URL, NEW_PASSWORD, token_of
from tests.auth.mfa import enrol
from tests.compat.conftest import ALL_PROFILES
from tests.compat.urls import (
    OAUTH2_CHANGE,
    OAUTH2_CREATE,
    OAUTH2_LOGOUT,
    OAUTH2_ME,
    OAUTH2_REFRESH,
    OAUTH2_REGISTER,
    OAUTH2_RESET,
    OAUTH2_RESET_CONFIRM,
    OAUTH2_REVOKE,
    OAUTH2_TOKEN,
)
from tests.conftest import PASSWORD
from tests.helpers import assert_error
from tests.urls import LOGIN, LOGOUT_ALL, ME

pytestmark = pytest.mark.config(FRONTEND_URL=FRONTEND_URL)
PAIR_FIELDS = {"access_token", "refresh_token", "token_type", "expires_in"}


@pytest.fixture
def settings(mail_settings):
    return {**mail_settings, "COMPAT_PROFILES": ALL_PROFILES}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def log_in(client, email, password=PASSWORD, *, path=OAUTH2_CREATE, field="username"):
    response = client.post(path, json={field: email, "password": password})
    assert response.status_code == 200, response.json
    return response.json


def assert_shape(response, status, error, code=None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.json["error"] == error, response.json
    if code is not None:
        assert response.json["code"] == code
    return response.json


def test_register_login_refresh_me_revoke(client):
    registered = client.post(
        OAUTH2_REGISTER,
        json={
            "email": "john@example.com",
            "password": PASSWORD,
            "first_name": "John",
            "last_name": "Doe",
        },
    )
    assert registered.status_code == 201
    assert registered.json["username"] == registered.json["email"] == "john@example.com"

    pair = log_in(client, "john@example.com")
    assert set(pair) == PAIR_FIELDS
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 3600

    rotated = client.post(OAUTH2_REFRESH, json={"refresh_token": pair["refresh_token"]})
    assert rotated.status_code == 200
    assert set(rotated.json) == PAIR_FIELDS
    assert rotated.json["refresh_token"] != pair["refresh_token"]

    me = client.get(OAUTH2_ME, headers=bearer(rotated.json["access_token"]))
    assert me.status_code == 200
    assert me.json["name"] == "John Doe"
    assert me.json["username"] == "john@example.com"

    revoked = client.post(
        OAUTH2_REVOKE, json={"refresh_token": rotated.json["refresh_token"]}
    )
    assert revoked.status_code == 204
    # Revoked through the profile: refused by /api/v1 and the profile alike.
    assert_error(
        client.get(ME, headers=bearer(rotated.json["access_token"])),
        401,
        "token_revoked",
    )
    assert_shape(
        client.get(OAUTH2_ME, headers=bearer(rotated.json["access_token"])),
        401,
        "Unauthorized",
        "token_revoked",
    )


def test_token_and_email_login_and_logout(client, account):
    pair = log_in(client, account[0], path=OAUTH2_TOKEN, field="email")
    ended = client.post(OAUTH2_LOGOUT, json={"refresh_token": pair["refresh_token"]})
    assert ended.status_code == 204
    assert (
        client.get(OAUTH2_ME, headers=bearer(pair["access_token"])).status_code == 401
    )


def test_a_replayed_refresh_token_revokes_the_session(app, client, account):
    app.config["REFRESH_REUSE_GRACE_SECONDS"] = 0
    pair = log_in(client, account[0])
    body = {"refresh_token": pair["refresh_token"]}
    rotated = client.post(OAUTH2_REFRESH, json=body).json
    replayed = client.post(OAUTH2_REFRESH, json=body)
    assert_shape(replayed, 401, "Unauthorized", "token_revoked")
    assert "reuse" in replayed.json["message"]
    # The whole session is gone, the token rotated last included.
    follow = client.post(
        OAUTH2_REFRESH, json={"refresh_token": rotated["refresh_token"]}
    )
    assert_shape(follow, 401, "Unauthorized", "token_revoked")


def test_logout_all_through_api_v1_ends_profile_sessions(client, account):
    pair = log_in(client, account[0])
    ended = client.post(LOGOUT_ALL, headers=bearer(pair["access_token"]))
    assert ended.status_code == 200
    refused = client.post(OAUTH2_REFRESH, json={"refresh_token": pair["refresh_token"]})
    assert_shape(refused, 401, "Unauthorized", "token_revoked")


def test_validation_and_conflict_shapes(client, account):
    missing = client.post(OAUTH2_REGISTER, json={"password": "short"})
    details = assert_shape(missing, 400, "Validation Error")["details"]
    assert details["email"] == ["Missing data for required field."]
    assert "password" in details
    taken = client.post(
        OAUTH2_REGISTER, json={"email": account[0], "password": PASSWORD}
    )
    body = assert_shape(taken, 409, "Conflict", "email_taken")
    assert body["message"] == "An account with this email already exists."
    common = client.post(
        OAUTH2_REGISTER, json={"email": "new@example.com", "password": "password123"}
    )
    assert "password" in assert_shape(common, 400, "Validation Error")["details"]
    nobody = client.post(OAUTH2_CREATE, json={"password": PASSWORD})
    assert "username" in assert_shape(nobody, 400, "Validation Error")["details"]


def test_wrong_credentials_and_mfa_accounts_are_401(auth, client, account):
    wrong = client.post(OAUTH2_CREATE, json={"username": account[0], "password": "x"})
    assert_shape(wrong, 401, "Unauthorized", "invalid_credentials")
    caller = auth.register()
    enrol(caller)
    mfa = client.post(
        OAUTH2_CREATE, json={"username": caller.extra["email"], "password": PASSWORD}
    )
    body = assert_shape(mfa, 401, "Unauthorized", "mfa_unsupported")
    assert "two-factor" in body["message"]


def test_password_change_and_its_confirmation(client, account):
    pair = log_in(client, account[0])
    other = log_in(client, account[0])
    differ = client.post(
        OAUTH2_CHANGE,
        json={
            "old_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD + "x",
        },
        headers=bearer(pair["access_token"]),
    )
    assert (
        "new_password_confirm"
        in assert_shape(differ, 400, "Validation Error")["details"]
    )
    wrong_old = client.post(
        OAUTH2_CHANGE,
        json={"old_password": "not it at all", "new_password": NEW_PASSWORD},
        headers=bearer(pair["access_token"]),
    )
    assert_shape(wrong_old, 400, "Bad Request", "invalid_credentials")
    changed = client.post(
        OAUTH2_CHANGE,
        json={
            "old_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
        headers=bearer(pair["access_token"]),
    )
    assert changed.status_code == 200, changed.json
    # The other session ended; the new password logs in.
    assert (
        client.get(OAUTH2_ME, headers=bearer(other["access_token"])).status_code == 401
    )
    assert (
        client.get(OAUTH2_ME, headers=bearer(pair["access_token"])).status_code == 200
    )
    log_in(client, account[0], NEW_PASSWORD)


def test_password_reset_over_smtp(client, account, mailbox):
    requested = client.post(OAUTH2_RESET, json={"email": account[0]})
    assert requested.status_code == 202
    unknown = client.post(OAUTH2_RESET, json={"email": "nobody@example.com"})
    assert unknown.status_code == 202 and unknown.json == requested.json
    [mail] = [m for m in mailbox.wait_for(1) if account[0] in m.rcpt_tos]
    token = token_of(mail.link(f"{FRONTEND_URL}/reset-password?token="))
    done = client.post(
        OAUTH2_RESET_CONFIRM,
        json={
            "token": token,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
    )
    assert done.status_code == 200, done.json
    again = client.post(
        OAUTH2_RESET_CONFIRM, json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert_shape(again, 401, "Unauthorized", "token_invalid")
    assert client.post(LOGIN, json={"email": account[0], "password": NEW_PASSWORD})


def test_profile_update(client, account):
    pair = log_in(client, account[0])
    updated = client.patch(
        OAUTH2_ME,
        json={"name": "Johnny", "profile_picture": "https://example.com/me.png"},
        headers=bearer(pair["access_token"]),
    )
    assert updated.status_code == 200, updated.json
    assert updated.json["name"] == "Johnny"
    assert updated.json["message"] == "Profile updated successfully."
    empty = client.patch(OAUTH2_ME, json={}, headers=bearer(pair["access_token"]))
    assert_shape(empty, 400, "Validation Error")
    bad = client.patch(
        OAUTH2_ME,
        json={"profile_picture": "javascript:alert(1)"},
        headers=bearer(pair["access_token"]),
    )
    assert "profile_picture" in assert_shape(bad, 400, "Validation Error")["details"]
