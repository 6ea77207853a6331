"""The fastapi-mock profile: top-level tokens, `{detail}` errors, HS256 downstreams."""

import jwt
import pytest

from tests.auth.mfa import enrol
from tests.compat.urls import (
    MOCK_LOGIN,
    MOCK_ME,
    MOCK_REFRESH,
    MOCK_REGISTER,
    MOCK_USERS,
)
from tests.conftest import PASSWORD
from tests.helpers import assert_error
from tests.urls import LOGOUT, ME

TOKEN_FIELDS = {"access_token", "refresh_token", "token_type", "expires_in"}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def mock_login(client, email, password=PASSWORD):
    return client.post(MOCK_LOGIN, json={"email": email, "password": password})


def test_register_login_me_refresh(client):
    created = client.post(
        MOCK_REGISTER,
        json={"email": "alice@example.com", "password": PASSWORD, "name": "Alice"},
    )
    assert created.status_code == 201
    assert created.json["name"] == "Alice"
    tokens = mock_login(client, "alice@example.com")
    assert tokens.status_code == 200
    assert set(tokens.json) == TOKEN_FIELDS
    assert tokens.json["token_type"] == "bearer"
    me = client.get(MOCK_ME, headers=bearer(tokens.json["access_token"]))
    assert me.status_code == 200
    assert me.json["email"] == "alice@example.com"
    assert me.json["id"] == created.json["id"]
    body = {"refresh_token": tokens.json["refresh_token"]}
    refreshed = client.post(MOCK_REFRESH, json=body)
    # No refresh token in the answer: the client keeps its own, which works again.
    assert set(refreshed.json) == {"access_token", "token_type", "expires_in"}
    assert client.post(MOCK_REFRESH, json=body).status_code == 200


def test_a_session_ended_through_api_v1_is_refused_by_the_profile(client, account):
    tokens = mock_login(client, account[0]).json
    ended = client.post(
        LOGOUT,
        json={"refreshToken": tokens["refresh_token"]},
        headers={"X-Auth-Mode": "bearer"},
    )
    assert ended.status_code == 200
    me = client.get(MOCK_ME, headers=bearer(tokens["access_token"]))
    assert me.status_code == 401
    assert me.json == {"detail": "Token has been revoked.", "code": "token_revoked"}
    refused = client.post(MOCK_REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert refused.status_code == 401
    assert_error(
        client.get(ME, headers=bearer(tokens["access_token"])), 401, "token_revoked"
    )


def test_errors_are_fastapi_shaped(client, account):
    wrong = mock_login(client, account[0], "not the password 1")
    assert wrong.status_code == 401
    assert wrong.json["detail"] == "Invalid email or password."
    invalid = client.post(MOCK_LOGIN, json={"email": "not an email", "password": 1})
    assert invalid.status_code == 422
    located = {tuple(item["loc"]) for item in invalid.json["detail"]}
    assert located == {("body", "email"), ("body", "password")}
    broken = client.post(MOCK_LOGIN, data="{", content_type="application/json")
    assert broken.status_code == 422
    assert broken.json["code"] == "invalid_json"
    taken = client.post(MOCK_REGISTER, json={"email": account[0], "password": PASSWORD})
    assert taken.status_code == 409
    assert taken.json["code"] == "email_taken"


def test_an_mfa_account_gets_a_clear_401(auth, client):
    caller = auth.register()
    enrol(caller)
    response = mock_login(client, caller.extra["email"])
    assert response.status_code == 401
    assert response.json["code"] == "mfa_unsupported"
    assert "two-factor" in response.json["detail"]


def test_a_downstream_verifies_the_access_token_with_the_shared_secret(
    app, client, account
):
    token = mock_login(client, account[0]).json["access_token"]
    secret = app.config["JWT_SECRET_KEY"]
    # docs/compat.md: the HS256 downstream passes the audience (and the issuer).
    claims = jwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        audience="auth-server",
        issuer="auth-server",
    )
    assert claims["sub"]
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, secret, algorithms=["HS256"])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token, "another secret" * 4, algorithms=["HS256"], audience="auth-server"
        )


def test_the_dev_endpoints_do_not_exist_outside_the_dev_mock(client):
    assert client.get(MOCK_USERS).status_code == 404
    assert client.delete(f"{MOCK_USERS}/reset").status_code == 404
