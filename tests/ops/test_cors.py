"""CORS: the exact allowlist, credentials only for it, Vary: Origin, preflights."""

import pytest

from app import create_app
from tests.helpers import assert_error
from tests.urls import HEALTH, LOGIN, ME

SPA = "https://app.example.com"
ADMIN = "http://localhost:3000"
ALLOWED_HEADERS = {"authorization", "content-type", "x-csrf-token", "x-auth-mode"}
ALLOWED_HEADERS |= {"x-request-id"}

pytestmark = pytest.mark.config(CORS_ORIGINS=[SPA, ADMIN])


def header_set(value):
    return {item.strip().lower() for item in (value or "").split(",") if item.strip()}


def preflight(client, path, origin, method="POST", headers="content-type"):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


@pytest.mark.parametrize("origin", [SPA, ADMIN])
def test_allowed_origin_gets_credentials_and_exposed_headers(client, auth, origin):
    caller = auth.register(mode="bearer")
    response = client.get(ME, headers={**caller.headers, "Origin": origin})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers.getlist("Access-Control-Allow-Origin") == [origin]
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert header_set(response.headers["Access-Control-Expose-Headers"]) == {
        "authorization",
        "x-request-id",
        "retry-after",
    }
    assert "origin" in header_set(response.headers.get("Vary"))


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.com",
        "null",
        "https://app.example.com.evil.com",
        "http://app.example.com",  # another scheme is another origin
        "https://app.example.com:8443",  # and another port
        "https://sub.app.example.com",
    ],
)
def test_other_origins_get_no_cors_headers(client, origin):
    for response in (
        client.get(HEALTH, headers={"Origin": origin}),
        preflight(client, LOGIN, origin),
        client.post(
            LOGIN,
            json={"email": "a@example.com", "password": "x" * 8},
            headers={"Origin": origin},
        ),
    ):
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Access-Control-Allow-Credentials" not in response.headers
        assert "origin" in header_set(response.headers.get("Vary"))


def test_no_origin_header_gets_no_cors_headers_but_vary(client):
    response = client.get(HEALTH)
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "origin" in header_set(response.headers.get("Vary"))


def test_preflight_is_answered_for_an_allowed_origin(client):
    response = preflight(
        client,
        LOGIN,
        SPA,
        headers="Content-Type, X-CSRF-TOKEN, X-Auth-Mode, X-Request-ID, Authorization",
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SPA
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "post" in header_set(response.headers["Access-Control-Allow-Methods"])
    assert header_set(response.headers["Access-Control-Allow-Headers"]) == (
        ALLOWED_HEADERS
    )
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert "origin" in header_set(response.headers.get("Vary"))
    assert response.get_data() == b""


def test_preflight_of_a_protected_route_needs_no_token(client):
    response = preflight(client, ME, SPA, method="PATCH", headers="authorization")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SPA
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    assert header_set(response.headers["Access-Control-Allow-Headers"]) == {
        "authorization"
    }


def test_preflight_does_not_allow_other_request_headers(client):
    response = preflight(client, LOGIN, SPA, headers="content-type, x-evil, cookie")
    assert header_set(response.headers["Access-Control-Allow-Headers"]) == {
        "content-type"
    }


def test_preflight_does_not_allow_other_methods(client):
    response = preflight(client, LOGIN, SPA, method="PUT")
    assert "Access-Control-Allow-Methods" not in response.headers
    assert "Access-Control-Allow-Headers" not in response.headers


def test_error_answers_carry_cors_headers_for_allowed_origins(client):
    response = client.get(ME, headers={"Origin": SPA})
    assert_error(response, 401, "token_missing")
    assert response.headers["Access-Control-Allow-Origin"] == SPA
    missing = client.get("/no/such/route", headers={"Origin": SPA})
    assert missing.status_code == 404
    assert missing.headers["Access-Control-Allow-Origin"] == SPA


@pytest.mark.config(CORS_ORIGINS=[])
def test_no_allowlist_means_no_cross_origin_access(client):
    response = preflight(client, LOGIN, SPA)
    assert "Access-Control-Allow-Origin" not in response.headers
    response = client.get(HEALTH, headers={"Origin": SPA})
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(
    "entry", ["*", "null", "https://*.example.com", "https://app.example.com/path"]
)
def test_allowlist_entries_must_be_exact_origins(database_url, entry):
    with pytest.raises(ValueError, match="CORS_ORIGINS"):
        create_app(
            {
                "APP_ENV": "testing",
                "SQLALCHEMY_DATABASE_URI": database_url,
                "CORS_ORIGINS": [SPA, entry],
            }
        )


@pytest.mark.config(CORS_ORIGINS=["https://App.Example.com/"])
def test_single_origin_allowlist_normalised_and_still_varies(client):
    response = client.get(HEALTH, headers={"Origin": SPA})
    assert response.headers["Access-Control-Allow-Origin"] == SPA
    # flask-cors alone sends no Vary with a single origin; the answer still varies.
    assert "origin" in header_set(response.headers.get("Vary"))
