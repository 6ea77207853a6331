"""One envelope for every failure: Werkzeug's, malformed bodies, and the unexpected."""

import json
import logging

import pytest

from tests.helpers import assert_error, assert_ok
from tests.urls import LOGIN, REGISTER


def post_raw(client, path, data, content_type="application/json"):
    return client.post(path, data=data, content_type=content_type)


def test_unknown_route_is_404_envelope(client):
    response = client.get("/api/v1/nope")
    assert_error(response, 404, "not_found")
    assert response.headers["X-Request-ID"]


def test_wrong_method_is_405_envelope_with_allow(client):
    response = client.get(LOGIN)
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_body_over_limit_is_413_envelope(client):
    body = json.dumps({"email": "a@example.com", "password": "x" * (70 * 1024)})
    assert_error(post_raw(client, LOGIN, body), 413, "payload_too_large")


@pytest.mark.config(MAX_CONTENT_LENGTH=1024)
def test_body_limit_is_configurable(client):
    body = json.dumps({"email": "a@example.com", "password": "x" * 2000})
    assert_error(post_raw(client, LOGIN, body), 413, "payload_too_large")


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ],
)
def test_non_json_body_is_415(client, content_type):
    response = post_raw(client, LOGIN, '{"email": "a@example.com"}', content_type)
    assert_error(response, 415, "unsupported_media_type")


def test_json_with_charset_is_accepted(client, make_user):
    make_user(email="a@example.com")
    response = post_raw(
        client,
        LOGIN,
        json.dumps(
            {"email": "a@example.com", "password": "correct horse battery staple"}
        ),
        "application/json; charset=utf-8",
    )
    assert_ok(response)


@pytest.mark.parametrize(
    "raw",
    [
        "{",
        "not json",
        "[]",
        '["a", "b"]',
        '"string"',
        "42",
        "null",
        "true",
        '{"email": NaN, "password": "x"}',
        '{"email": Infinity}',
        '{"email": -Infinity}',
        '{"email": "a@example.com", "email": "b@example.com", "password": "x"}',
        '{"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}',
        "[" * 20000 + "]" * 20000,
        '{"a":' * 5000 + "1" + "}" * 5000,
        "\ufeff{}",
        "",
    ],
)
def test_malformed_json_is_400_invalid_json(client, raw):
    response = post_raw(client, LOGIN, raw.encode("utf-8"))
    assert_error(response, 400, "invalid_json")


def test_invalid_utf8_is_400(client):
    assert_error(post_raw(client, LOGIN, b'{"email": "\xff\xfe"}'), 400, "invalid_json")


def test_escaped_nul_in_field_is_validation_error(client):
    raw = (
        '{"name": "a\\u0000b", "email": "a@example.com", "password": "long enough pw"}'
    )
    error = assert_error(post_raw(client, REGISTER, raw), 400, "validation_error")
    assert "name" in error["details"]


def test_lone_surrogate_is_validation_error_not_500(client):
    raw = '{"name": "\\udc80", "email": "a@example.com", "password": "long enough pw"}'
    assert_error(post_raw(client, REGISTER, raw), 400, "validation_error")


def test_unexpected_exception_is_500_envelope_without_internals(app, client, caplog):
    def boom():
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/boom", view_func=boom)
    with caplog.at_level(logging.ERROR):
        response = client.get("/boom", headers={"X-Request-ID": "req-boom-1"})
    body = assert_error(response, 500, "internal_error")
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert set(body) == {"success", "error", "code"}
    assert response.headers["X-Request-ID"] == "req-boom-1"
    assert any("req-boom-1" in record.getMessage() for record in caplog.records)


def test_request_id_is_echoed_when_sane(client):
    response = client.get("/api/v1/nope", headers={"X-Request-ID": "abc-123_x.y"})
    assert response.headers["X-Request-ID"] == "abc-123_x.y"


@pytest.mark.parametrize(
    "incoming", ["", "x" * 200, "bad id", "evil\r\nSet-Cookie: a=b"]
)
def test_insane_request_id_is_replaced(client, incoming):
    response = client.get(
        "/api/v1/nope",
        headers={"X-Request-ID": incoming} if "\n" not in incoming else {},
    )
    assert response.headers["X-Request-ID"] != incoming
    assert len(response.headers["X-Request-ID"]) == 32


def test_every_error_has_request_id_and_no_store(client):
    response = client.post(LOGIN, data="x", content_type="text/plain")
    assert response.headers["X-Request-ID"]
    assert response.headers["Cache-Control"] == "no-store"


def test_each_request_reads_its_own_body_inside_one_app_context(app):
    """A test (or a CLI) holding one app context around several requests."""
    client = app.test_client()
    with app.app_context():
        for email in ("first@example.com", "second@example.com"):
            response = client.post(
                REGISTER,
                json={"name": "Ada", "email": email, "password": "pass phrase 42"},
            )
            assert response.status_code == 201, response.get_json()
            assert response.get_json()["data"]["user"]["email"] == email
