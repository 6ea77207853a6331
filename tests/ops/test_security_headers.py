"""Security headers on every answer: success, errors, 429, 500, preflight, metrics."""

import pytest

from app import create_app
from app.extensions import db
from tests.conftest import PASSWORD
from tests.helpers import assert_error, production_settings
from tests.urls import HEALTH, LOGIN, ME, METRICS

API_CSP = "default-src 'none'; frame-ancestors 'none'"


def assert_security_headers(response, *, csp=API_CSP):
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Content-Security-Policy"] == csp
    assert headers.getlist("Content-Security-Policy") == [csp]


@pytest.fixture
def boom(app):
    """A route that fails with an unexpected exception (the 500 path)."""

    def fail():
        raise RuntimeError("boom")

    app.add_url_rule("/boom", "boom", fail)
    return "/boom"


def test_headers_on_success_and_client_errors(client, auth, boom):
    caller = auth.register(mode="bearer")
    responses = [
        client.get(HEALTH),
        client.get(ME, headers=caller.headers),
        client.get(METRICS),
        client.get("/no/such/route"),
        client.put(LOGIN, json={}),
        client.post(LOGIN, data="{", content_type="application/json"),
        client.post(LOGIN, data="x", content_type="text/plain"),
        client.get(ME),
        client.get(ME, headers={"Authorization": "Bearer nope"}),
        client.post(LOGIN, json={"email": "a@example.com", "password": "wrong pw"}),
        client.options(LOGIN),
        client.get(boom),
    ]
    statuses = [response.status_code for response in responses]
    assert statuses == [200, 200, 200, 404, 405, 400, 415, 401, 401, 401, 200, 500]
    for response in responses:
        assert_security_headers(response)
        assert "Strict-Transport-Security" not in response.headers


@pytest.mark.ratelimit
@pytest.mark.config(RATELIMIT_LOGIN="1 per minute")
def test_headers_on_429(client, make_user):
    user = make_user()
    body = {"email": user.email, "password": PASSWORD}
    assert client.post(LOGIN, json=body).status_code == 200
    limited = client.post(LOGIN, json=body)
    assert_error(limited, 429, "rate_limited")
    assert_security_headers(limited)


def test_a_view_can_set_its_own_csp(app, client):
    page_csp = "default-src 'self'; img-src 'self' data:"

    def page():
        return "<html></html>", 200, {"Content-Security-Policy": page_csp}

    app.add_url_rule("/page-with-own-csp", "page", page)
    response = client.get("/page-with-own-csp")
    assert_security_headers(response, csp=page_csp)


def production_app(database_url, **overrides):
    return create_app(
        production_settings(SQLALCHEMY_DATABASE_URI=database_url, **overrides)
    )


@pytest.mark.parametrize("path", [HEALTH, "/no/such/route"])
def test_hsts_in_production_only(database_url, path):
    app = production_app(database_url)
    try:
        response = app.test_client().get(path)
        assert response.headers["Strict-Transport-Security"] == (
            "max-age=63072000; includeSubDomains"
        )
        assert_security_headers(response)
    finally:
        with app.app_context():
            db.engine.dispose()


def test_hsts_can_be_turned_off_in_production(database_url):
    app = production_app(database_url, HSTS_MAX_AGE=0)
    try:
        response = app.test_client().get(HEALTH)
        assert "Strict-Transport-Security" not in response.headers
    finally:
        with app.app_context():
            db.engine.dispose()


def test_no_server_header_from_the_app(client):
    # gunicorn adds `Server: gunicorn` (no version: tests/ops/test_gunicorn.py).
    assert "Server" not in client.get(HEALTH).headers
