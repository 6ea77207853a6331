"""Bad input to every profile endpoint: a 4xx in the profile's shape, never a 500."""

import pytest

from app.ratelimit import SAME_LIMITS_AS, limits_for
from tests.compat.conftest import ALL_PROFILES
from tests.compat.urls import (
    CHIRPY_LOGIN,
    CHIRPY_USERS,
    MOCK_LOGIN,
    OAUTH2_CREATE,
    OAUTH2_REGISTER,
    PROFILE_ENDPOINTS,
)
from tests.urls import LOGIN, REGISTER

JSON = "application/json"
BAD_BODIES = {
    "malformed": ("{", JSON),
    "array": ("[]", JSON),
    "string": ('"x"', JSON),
    "null": ("null", JSON),
    "nan": ('{"email": NaN}', JSON),
    "duplicate keys": ('{"email": "a@example.com", "email": "b@example.com"}', JSON),
    "deep": ('{"email": {"a": {"b": 1}}}', JSON),
    "wrong types": ('{"email": 1, "password": [], "refresh_token": 5}', JSON),
    "unknown field": ('{"isAdmin": true}', JSON),
    "nul": ('{"email": "a\\u0000@example.com", "password": "x\\u0000"}', JSON),
    "lone surrogate": ('{"email": "\\ud800@example.com", "password": "\\udfff"}', JSON),
    "odd unicode": (
        '{"email": "ａｄａ@ｅｘａｍｐｌｅ.com", "password": "\\u202e\\ufeff"}',
        JSON,
    ),
    "not utf-8": (b'{"email": "\xff\xfe"}', JSON),
    "huge": ('{"email": "' + "a" * 70_000 + '"}', JSON),
    "form": ("email=a&password=b", "application/x-www-form-urlencoded"),
}


# GETs take no body (as GET /api/v1/users/me): whatever is sent is not read.
BODY_ENDPOINTS = [
    (method, path) for method, path in PROFILE_ENDPOINTS if method != "GET"
]


def expected_shape(path, response):
    """The body is the profile's error shape for `path`."""
    if path.startswith("/api/users") or path in (
        "/api/login",
        "/api/refresh",
        "/api/revoke",
    ):
        assert response.mimetype == "text/plain"
        assert response.get_data(as_text=True)
    elif path.startswith("/api/auth/"):
        assert "detail" in response.json and "code" in response.json
    else:
        assert "error" in response.json and "code" in response.json
        assert "success" not in response.json


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
def test_bad_bodies_get_a_4xx_in_the_profiles_shape(auth, client, method, path):
    caller = auth.register()
    for name, (data, content_type) in BAD_BODIES.items():
        response = client.open(
            path,
            method=method,
            data=data,
            content_type=content_type,
            headers=caller.headers,
        )
        assert 400 <= response.status_code < 500, (name, response.status_code)
        expected_shape(path, response)


def test_what_api_v1_refuses_a_profile_refuses(client):
    cases = [
        (REGISTER, {"name": "A", "email": "x@example.com", "password": "short"}),
        (LOGIN, {"email": "not-an-email", "password": "x"}),
    ]
    profile_cases = [
        (CHIRPY_USERS, {"email": "x@example.com", "password": "short"}),
        (OAUTH2_REGISTER, {"email": "x@example.com", "password": "password123"}),
        (CHIRPY_LOGIN, {"email": "not-an-email", "password": "x"}),
        (MOCK_LOGIN, {"email": "not-an-email", "password": "x"}),
        (OAUTH2_CREATE, {"username": "not-an-email", "password": "x"}),
    ]
    for path, body in cases:
        assert client.post(path, json=body).status_code == 400
    for path, body in profile_cases:
        assert client.post(path, json=body).status_code in (400, 422), path


@pytest.mark.ratelimit
@pytest.mark.parametrize("path", [CHIRPY_LOGIN, MOCK_LOGIN, OAUTH2_CREATE])
def test_profile_logins_share_the_login_counters_of_api_v1(make_app, account, path):
    limited = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_LOGIN_ACCOUNT="2 per minute",
        COMPAT_PROFILES=ALL_PROFILES,
    )
    client = limited.test_client()
    email = account[0]
    wrong = {"email": email, "password": "a wrong password 1"}
    assert client.post(LOGIN, json=wrong).status_code == 401
    name = "username" if path == OAUTH2_CREATE else "email"
    profile_wrong = {name: email, "password": "a wrong password 1"}
    assert client.post(path, json=profile_wrong).status_code == 401
    # Two failures, one through each API: the account's limit is used up for both.
    assert client.post(LOGIN, json=wrong).status_code == 429
    refused = client.post(path, json=profile_wrong)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1


@pytest.mark.ratelimit
def test_profile_registrations_share_the_register_counter(app, make_app):
    limited = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_REGISTER="2 per hour",
        COMPAT_PROFILES=ALL_PROFILES,
    )
    client = limited.test_client()
    ok = client.post(
        CHIRPY_USERS,
        json={"email": "r1@example.com", "password": "a good passphrase 1"},
    )
    assert ok.status_code == 201
    ok = client.post(
        REGISTER,
        json={
            "name": "R",
            "email": "r2@example.com",
            "password": "a good passphrase 1",
        },
    )
    assert ok.status_code == 201
    refused = client.post(
        OAUTH2_REGISTER,
        json={"email": "r3@example.com", "password": "a good passphrase 1"},
    )
    assert refused.status_code == 429
    assert refused.json["error"] == "Too Many Requests"


def test_every_aliased_endpoint_exists_with_all_profiles(app):
    assert set(SAME_LIMITS_AS) <= set(app.view_functions)


def test_a_wrong_method_is_405_in_the_profiles_shape(client):
    chirpy = client.get(CHIRPY_LOGIN)
    assert chirpy.status_code == 405
    assert chirpy.mimetype == "text/plain"
    assert chirpy.headers["Allow"]
    mock = client.put(MOCK_LOGIN)
    assert mock.status_code == 405 and mock.json["code"] == "method_not_allowed"
    assert "detail" in mock.json
    oauth2 = client.delete(OAUTH2_CREATE)
    assert oauth2.status_code == 405 and oauth2.json["error"] == "Method Not Allowed"
    # Outside the profiles, the envelope as ever.
    assert client.get(LOGIN).json["success"] is False


def test_every_entry_a_profile_borrows_counts_in_a_shared_counter():
    # Without a shared name flask-limiter would count the profile endpoint apart.
    for endpoint in SAME_LIMITS_AS:
        assert limits_for(endpoint)
        assert all(limit.shared for limit in limits_for(endpoint)), endpoint
