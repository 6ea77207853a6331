"""Forged, mangled and misplaced tokens on every authenticated endpoint: 401/403."""

import base64
import json

import jwt as pyjwt
import pytest

from tests.tokens import claims_of, expired_access_token, expired_refresh_token
from tests.urls import AUTH, LOGOUT, LOGOUT_ALL, ME, REFRESH, SESSIONS

ACCESS_ENDPOINTS = [
    ("get", ME),
    ("patch", ME),
    ("post", LOGOUT_ALL),
    ("get", SESSIONS),
    ("delete", "/api/v1/auth/sessions/00000000-0000-0000-0000-000000000000"),
]
REFRESH_ENDPOINTS = [
    ("post", REFRESH),
    ("post", LOGOUT),
]


def b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def forged_tokens(app, caller):
    claims = claims_of(caller.access_token)
    expired = expired_access_token(app, caller.access_token)
    expired_refresh = expired_refresh_token(app, caller.refresh_token)
    payload = {k: v for k, v in claims.items()}
    header, body, signature = caller.access_token.split(".")
    return {
        "alg_none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}.",
        "alg_none_pyjwt": pyjwt.encode(payload, None, algorithm="none"),
        "other_key": pyjwt.encode(
            payload, "another-secret-key-" * 3, algorithm="HS256"
        ),
        "tampered_payload": ".".join(
            [header, b64({**payload, "sub": "someone-else"}), signature]
        ),
        "truncated": caller.access_token[:-10],
        "garbage": "garbage",
        "three_dots": "a.b.c",
        "empty_segments": "..",
        "expired_access": expired,
        "expired_refresh": expired_refresh,
        "refresh_as_access": caller.refresh_token,
        "access_as_refresh": caller.access_token,
        "unicode": "tökén",
    }


ACCESS_CASES = [
    "alg_none",
    "alg_none_pyjwt",
    "other_key",
    "tampered_payload",
    "truncated",
    "garbage",
    "three_dots",
    "empty_segments",
    "expired_access",
    "refresh_as_access",
    "unicode",
]
REFRESH_CASES = [
    "alg_none",
    "alg_none_pyjwt",
    "other_key",
    "tampered_payload",
    "truncated",
    "garbage",
    "three_dots",
    "expired_refresh",
    "unicode",
]
EXPECTED = {"token_invalid", "token_expired", "token_revoked", "token_missing"}


def call(client, method, path, headers):
    kwargs = {"headers": headers}
    if method == "patch":
        kwargs["json"] = {"name": "Mallory"}
    return getattr(client, method)(path, **kwargs)


def test_forged_access_tokens_are_refused_everywhere(app, auth, client):
    caller = auth.register()
    tokens = forged_tokens(app, caller)
    for method, path in ACCESS_ENDPOINTS:
        for case in ACCESS_CASES:
            token = tokens[case]
            try:
                header = f"Bearer {token}".encode("latin-1").decode("latin-1")
            except UnicodeEncodeError:
                header = "Bearer invalid"
            response = call(client, method, path, {"Authorization": header})
            body = response.get_json()
            assert response.status_code == 401, (case, method, path, body)
            assert body["success"] is False and body["code"] in EXPECTED, (case, body)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get(ME, headers=caller.headers).status_code == 200


def test_expired_access_token_is_token_expired(app, auth, client):
    caller = auth.register()
    token = forged_tokens(app, caller)["expired_access"]
    response = client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert response.get_json()["code"] == "token_expired"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "bearer",
        "Bearer a b c",
        "",
        "   ",
    ],
)
def test_garbage_authorization_headers_are_401(auth, client, header):
    for method, path in ACCESS_ENDPOINTS:
        response = call(client, method, path, {"Authorization": header})
        assert response.status_code == 401, (header, path, response.get_json())
        assert response.get_json()["code"] in EXPECTED


def test_forged_refresh_tokens_are_refused(app, auth, client):
    caller = auth.register()
    tokens = forged_tokens(app, caller)
    for _method, path in REFRESH_ENDPOINTS:
        for case in REFRESH_CASES:
            if path.endswith("/logout") and case.startswith("expired"):
                continue  # logout accepts authentic expired tokens (see below)
            for where in ("header", "body"):
                if where == "header":
                    try:
                        f"Bearer {tokens[case]}".encode("latin-1")
                    except UnicodeEncodeError:
                        continue
                    response = client.post(
                        path, headers={"Authorization": f"Bearer {tokens[case]}"}
                    )
                else:
                    response = client.post(path, json={"refreshToken": tokens[case]})
                body = response.get_json()
                assert response.status_code == 401, (case, where, path, body)
                assert body["code"] in EXPECTED, (case, body)
    assert client.post(REFRESH, headers=caller.refresh_headers).status_code == 200


def test_access_token_is_refused_on_refresh(auth, client):
    caller = auth.register()
    response = client.post(REFRESH, headers=caller.headers)
    assert response.status_code == 401
    assert response.get_json()["code"] == "token_invalid"


def test_forged_cookie_refresh_is_refused(app, auth):
    caller = auth.register(mode="cookie")
    tokens = forged_tokens(app, auth.register())
    for case in ("alg_none", "other_key", "truncated", "garbage"):
        client = app.test_client()
        client.set_cookie("refresh_token", tokens[case], path=AUTH)
        response = client.post(REFRESH, headers={"X-CSRF-TOKEN": caller.csrf_token})
        assert response.status_code in (401, 403), (case, response.get_json())
        assert response.get_json()["success"] is False


def test_wrong_type_body_refresh_token_is_400(client):
    for value in (123, None, [], {"a": 1}, ""):
        response = client.post(REFRESH, json={"refreshToken": value})
        assert response.status_code == 400, value


def test_logout_accepts_an_authentic_expired_token(app, auth, client):
    caller = auth.register()
    token = forged_tokens(app, caller)["expired_access"]
    response = client.post(LOGOUT, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert client.get(ME, headers=caller.headers).get_json()["code"] == "token_revoked"
