"""The chirpy profile: Chirpy's requests and answers, over the /api/v1 services."""

import uuid

import pytest

from tests.audit.support import audit_types
from tests.auth.mfa import enrol
from tests.compat.urls import CHIRPY_LOGIN, CHIRPY_REFRESH, CHIRPY_REVOKE, CHIRPY_USERS
from tests.conftest import PASSWORD
from tests.helpers import assert_error
from tests.urls import LOGOUT, ME

USER_FIELDS = {"id", "email", "is_chirpy_red", "created_at", "updated_at"}


def chirpy_login(client, email, password=PASSWORD):
    return client.post(CHIRPY_LOGIN, json={"email": email, "password": password})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def assert_text_error(response, status, text=None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    if text is not None:
        assert text in response.get_data(as_text=True)


def test_register_then_login_answers_chirpys_plain_json(client):
    created = client.post(
        CHIRPY_USERS, json={"email": "Saul@Example.com", "password": PASSWORD}
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    assert set(created.json) == USER_FIELDS
    assert created.json["email"] == "saul@example.com"
    assert created.json["is_chirpy_red"] is False
    assert created.json["created_at"].endswith("Z")

    login = chirpy_login(client, "saul@example.com")
    assert login.status_code == 200
    assert set(login.json) == USER_FIELDS | {"token", "refresh_token"}
    assert "success" not in login.json
    assert login.json["id"] == created.json["id"]
    # The access token is the server's own: /api/v1 takes it.
    me = client.get(ME, headers=bearer(login.json["token"]))
    assert me.status_code == 200
    assert me.json["data"]["user"]["email"] == "saul@example.com"


def test_refresh_keeps_the_refresh_token_and_revoke_ends_the_session(client, account):
    login = chirpy_login(client, account[0]).json
    first = client.post(CHIRPY_REFRESH, headers=bearer(login["refresh_token"]))
    again = client.post(CHIRPY_REFRESH, headers=bearer(login["refresh_token"]))
    # Non-rotating: the same refresh token works again (no reuse detection).
    assert first.status_code == again.status_code == 200
    assert set(first.json) == {"token"}
    assert client.get(ME, headers=bearer(again.json["token"])).status_code == 200

    revoked = client.post(CHIRPY_REVOKE, headers=bearer(login["refresh_token"]))
    assert revoked.status_code == 204
    assert revoked.get_data() == b""
    # Revoked through the profile: refused by /api/v1 and by the profile.
    assert_error(client.get(ME, headers=bearer(login["token"])), 401, "token_revoked")
    assert_text_error(
        client.post(CHIRPY_REFRESH, headers=bearer(login["refresh_token"])),
        401,
        "revoked",
    )


def test_a_session_ended_through_api_v1_is_refused_by_the_profile(client, account):
    login = chirpy_login(client, account[0]).json
    ended = client.post(
        LOGOUT, headers={"X-Auth-Mode": "bearer", **bearer(login["token"])}
    )
    assert ended.status_code == 200
    assert_text_error(
        client.post(CHIRPY_REFRESH, headers=bearer(login["refresh_token"])), 401
    )


def test_wrong_password_and_unknown_email_are_the_same_plain_401(client, account):
    wrong = chirpy_login(client, account[0], "not the password 1")
    unknown = chirpy_login(client, "nobody@example.com")
    for response in (wrong, unknown):
        assert_text_error(response, 401, "Invalid email or password.")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_mfa_account_gets_a_clear_401(auth, client):
    caller = auth.register()
    enrol(caller)
    response = chirpy_login(client, caller.extra["email"])
    assert_text_error(response, 401, "two-factor sign-in")
    assert "/api/v1/auth/login" in response.get_data(as_text=True)


def test_registration_follows_the_password_policy_and_the_unique_email(client):
    weak = client.post(
        CHIRPY_USERS, json={"email": "weak@example.com", "password": "password123"}
    )
    assert_text_error(weak, 400, "password")
    body = {"email": "twice@example.com", "password": PASSWORD}
    assert client.post(CHIRPY_USERS, json=body).status_code == 201
    assert_text_error(client.post(CHIRPY_USERS, json=body), 409, "already exists")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Bearer not.a.token"}],
    ids=["missing", "empty", "garbage"],
)
def test_refresh_and_revoke_refuse_a_missing_or_bad_token(client, headers):
    for path in (CHIRPY_REFRESH, CHIRPY_REVOKE):
        assert_text_error(client.post(path, headers=headers), 401)


def test_an_access_token_is_no_refresh_token(client, account):
    login = chirpy_login(client, account[0]).json
    assert_text_error(client.post(CHIRPY_REFRESH, headers=bearer(login["token"])), 401)


def test_profile_calls_are_audited_as_api_v1_calls_are(app, client, account):
    email = account[0]
    chirpy_login(client, email, "not the password 1")
    login = chirpy_login(client, email).json
    client.post(CHIRPY_REVOKE, headers=bearer(login["refresh_token"]))
    user_id = uuid.UUID(login["id"])
    assert audit_types(app, user_id=user_id)[-3:] == [
        "login_failed",
        "login_ok",
        "logout",
    ]
