"""Answers the fuzzer cannot provoke, checked against the document all the same.

Rate limits, oversized bodies, expired tokens, disabled accounts, a CSRF failure, a
crash, a failing health check and an asymmetric JWKS: each answer must be one the
document describes (status, body schema, error `code` enum, content type).
"""

import pytest
import schemathesis

from tests.helpers import assert_error
from tests.keys.support import asymmetric_settings
from tests.tokens import expired_access_token
from tests.urls import HEALTH, JWKS, ME, OPENAPI, REFRESH, REGISTER


@pytest.fixture
def document_schema(app):
    return schemathesis.openapi.from_wsgi(OPENAPI, app)


@pytest.fixture
def conforms(document_schema):
    """Assert that `response` is documented for `method path`; return its body."""

    def check(method, path, response):
        operation = document_schema[path][method]
        documented = operation.definition.raw["responses"]
        assert str(response.status_code) in documented, response.status_code
        operation.validate_response(response)
        if response.status_code >= 400:
            content = documented[str(response.status_code)]["content"]
            enum = content["application/json"]["schema"]["allOf"][1]
            assert response.get_json()["code"] in enum["properties"]["code"]["enum"]
        return response.get_json()

    return check


LOGIN = {"email": "nobody@example.com", "password": "wrong password"}


@pytest.mark.ratelimit
@pytest.mark.config(RATELIMIT_LOGIN="1 per minute")
def test_rate_limited_login(client, conforms):
    client.post("/api/v1/auth/login", json=LOGIN)
    response = client.post("/api/v1/auth/login", json=LOGIN)
    assert_error(response, 429, "rate_limited")
    assert response.headers["Retry-After"].isdigit()
    conforms("POST", "/api/v1/auth/login", response)


def test_oversized_and_non_json_bodies(client, conforms):
    huge = {"name": "x" * (70 * 1024), "email": "a@example.com", "password": "p"}
    response = client.post(REGISTER, json=huge)
    assert_error(response, 413, "payload_too_large")
    conforms("POST", REGISTER, response)
    response = client.post(REGISTER, data="name=x", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")
    conforms("POST", REGISTER, response)


def test_expired_access_token(app, client, auth, conforms):
    caller = auth.register()
    expired = expired_access_token(app, caller.access_token)
    response = client.get(ME, headers={"Authorization": f"Bearer {expired}"})
    assert_error(response, 401, "token_expired")
    conforms("GET", ME, response)


def test_disabled_account_login(client, make_user, conforms):
    user = make_user(is_active=False)
    response = client.post(
        "/api/v1/auth/login",
        json={"email": user.email, "password": "correct horse battery staple"},
    )
    assert_error(response, 403, "account_disabled")
    conforms("POST", "/api/v1/auth/login", response)


def test_cookie_refresh_without_csrf_header(auth, conforms):
    caller = auth.register(mode="cookie")
    response = caller.client.post(REFRESH)
    assert_error(response, 403, "csrf_failed")
    conforms("POST", REFRESH, response)


def test_cookie_refresh_and_logout_answers(auth, conforms):
    caller = auth.register(mode="cookie")
    headers = {"X-CSRF-TOKEN": caller.csrf_token}
    response = caller.client.post(REFRESH, headers=headers)
    data = conforms("POST", REFRESH, response)["data"]
    assert "refreshToken" not in data
    assert response.headers["Authorization"] == f"Bearer {data['accessToken']}"
    assert response.headers.getlist("Set-Cookie")


def test_a_crash_is_a_documented_500(app, auth, conforms, monkeypatch):
    caller = auth.register()

    def crash(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("app.users.services.update_profile", crash)
    response = caller.client.patch(ME, json={"name": "New"}, headers=caller.headers)
    body = assert_error(response, 500, "internal_error")
    assert "boom" not in body["error"]
    conforms("PATCH", ME, response)


def test_health_check_failure_is_a_documented_503(client, conforms, monkeypatch):
    def broken_probe():
        def probe():
            raise OSError("database down")

        return probe

    monkeypatch.setattr("app.observability.health.database_probe", broken_probe)
    response = client.get(HEALTH)
    assert_error(response, 503, "unavailable")
    conforms("GET", HEALTH, response)


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_jwks_of_an_asymmetric_key_matches_the_document(algorithm, make_app):
    app = make_app(JWT_SECRET_KEY=None, **asymmetric_settings(algorithm))
    schema = schemathesis.openapi.from_wsgi(OPENAPI, app)
    response = app.test_client().get(JWKS)
    assert response.status_code == 200
    schema[JWKS]["GET"].validate_response(response)


def test_user_with_a_profile_picture_conforms(auth, conforms):
    caller = auth.register()
    response = caller.client.patch(
        ME,
        json={"profilePicture": "https://example.com/ada.png"},
        headers=caller.headers,
    )
    user = conforms("PATCH", ME, response)["data"]["user"]
    assert user["profilePicture"] == "https://example.com/ada.png"
