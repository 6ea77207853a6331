"""Tokens and headers built to break the parser: always a 4xx envelope, never a 500."""

import base64
import io
import json

import pytest

from tests.helpers import assert_error
from tests.sessions.test_bad_tokens import ACCESS_ENDPOINTS, REFRESH_ENDPOINTS, call
from tests.urls import REFRESH, REGISTER


def segment(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def nested(depth):
    return b'{"a":' + b"[" * depth + b"]" * depth + b"}"


HOSTILE = {
    "nested_header": f"{segment(nested(1500))}.{segment(b'{}')}.c2ln",
    "nested_payload": (
        f"{segment(json.dumps({'alg': 'HS256', 'typ': 'at+jwt'}).encode())}."
        f"{segment(nested(1500))}.c2ln"
    ),
    "oversized": "a" * 3000 + "." + "b" * 3000 + ".c",
    "header_not_an_object": f"{segment(b'[1,2]')}.{segment(b'{}')}.c2ln",
    "header_not_json": f"{segment(bytes(range(256)))}.{segment(b'{}')}.c2ln",
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_tokens_are_401_everywhere(client, case):
    token = HOSTILE[case]
    for method, path in ACCESS_ENDPOINTS + REFRESH_ENDPOINTS:
        response = call(client, method, path, {"Authorization": f"Bearer {token}"})
        assert_error(response, 401, "token_invalid")
    for _, path in REFRESH_ENDPOINTS:
        response = client.post(path, json={"refreshToken": token})
        if case == "oversized":  # the body schema bounds the field first
            assert_error(response, 400, "validation_error")
        else:
            assert_error(response, 401, "token_invalid")


@pytest.mark.parametrize("value", ["tökén", "\u00ff" * 40, "é"])
def test_non_ascii_csrf_header_is_403(auth, value):
    caller = auth.register(mode="cookie")
    response = caller.client.post(
        REFRESH,
        headers={"X-CSRF-TOKEN": value.encode("utf-8").decode("latin-1")},
    )
    assert_error(response, 403, "csrf_failed")


def chunked_post(client, path, body):
    return client.post(
        path,
        input_stream=io.BytesIO(body),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_chunked_body_over_the_limit_is_413_not_cut(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = json.dumps(
        {"name": "A" * limit, "email": "big@example.com", "password": "pass phrase 42"}
    ).encode()
    assert_error(chunked_post(client, REGISTER, body), 413, "payload_too_large")


def test_chunked_body_within_the_limit_is_read(client):
    body = json.dumps(
        {"name": "Ada", "email": "chunked@example.com", "password": "pass phrase 42"}
    ).encode()
    assert chunked_post(client, REGISTER, body).status_code == 201
