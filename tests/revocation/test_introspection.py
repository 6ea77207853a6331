"""POST /api/v1/auth/introspect (RFC 7662): claims for a service, nothing for others."""

import base64

import pytest

from tests.auth.keys.support import token_parts
from tests.urls import INTROSPECT, LOGOUT

CLIENTS = {"orders": "orders-secret-0123456789", "billing": "billing-secret-98765432"}
INACTIVE = {"active": False}

pytestmark = pytest.mark.config(INTROSPECTION_CLIENTS=CLIENTS)


def basic(client_id, secret):
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


ORDERS = basic("orders", CLIENTS["orders"])


def introspect(client, data, headers=ORDERS, **kwargs):
    answer = client.post(INTROSPECT, data=data, headers=headers, **kwargs)
    assert answer.status_code == 200, answer.data
    assert answer.headers["Cache-Control"] == "no-store"
    return answer.get_json()


def test_an_active_access_token_answers_its_claims(client, auth):
    caller = auth.register()
    answer = introspect(client, {"token": caller.access_token})
    claims = token_parts(caller.access_token)[1]
    assert answer["active"] is True
    assert answer["token_type"] == "access_token"
    assert answer["client_id"] == "orders"
    for name in ("iss", "sub", "aud", "exp", "iat", "jti", "sid", "role", "acr"):
        assert answer[name] == claims[name], name


def test_client_secret_post_works_too(client, auth):
    caller = auth.register()
    data = {"token": caller.access_token, "client_id": "billing"}
    data["client_secret"] = CLIENTS["billing"]
    assert introspect(client, data, headers={})["active"] is True


def test_a_revoked_token_is_inactive(client, auth):
    caller = auth.register()
    assert client.post(LOGOUT, headers=caller.headers).status_code == 200
    assert introspect(client, {"token": caller.access_token}) == INACTIVE


def test_a_refresh_token_is_inactive(client, auth):
    caller = auth.register()  # bearer: the refresh token is in the body
    assert caller.refresh_token
    answer = introspect(
        client, {"token": caller.refresh_token, "token_type_hint": "refresh_token"}
    )
    assert answer == INACTIVE


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("orders", "wrong-secret-0123456789"),
        basic("nobody", CLIENTS["orders"]),
        basic("orders", ""),
        {"Authorization": "Basic !!!"},
        {"Authorization": f"Bearer {CLIENTS['orders']}"},
    ],
)
def test_without_valid_credentials_nothing_is_told(client, auth, headers):
    caller = auth.register()
    assert (
        introspect(client, {"token": caller.access_token}, headers=headers) == INACTIVE
    )


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"token": ""},
        {"token": "garbage"},
        {"token": "a.b.c"},
        {"token": "x" * 5000},
        {"token": "é\u202e\x00"},
    ],
)
def test_bad_tokens_are_inactive(client, data):
    assert introspect(client, data) == INACTIVE


def test_a_json_body_is_inactive(client, auth):
    caller = auth.register()
    answer = introspect(client, None, json={"token": caller.access_token})
    assert answer == INACTIVE


def test_a_forged_token_is_inactive(client, auth):
    caller = auth.register()
    header, payload, signature = caller.access_token.split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    assert introspect(client, {"token": forged}) == INACTIVE


def test_a_huge_body_is_413(client):
    answer = client.post(INTROSPECT, data={"token": "x" * 200_000}, headers=ORDERS)
    assert answer.status_code == 413


@pytest.mark.ratelimit
@pytest.mark.config(INTROSPECTION_CLIENTS=CLIENTS, RATELIMIT_INTROSPECT="3 per minute")
def test_rate_limited_per_client(client, auth):
    caller = auth.register()
    for _ in range(3):
        assert introspect(client, {"token": caller.access_token})["active"] is True
    limited = client.post(
        INTROSPECT, data={"token": caller.access_token}, headers=ORDERS
    )
    assert limited.status_code == 429
    # Another service has a counter of its own.
    other = basic("billing", CLIENTS["billing"])
    assert introspect(client, {"token": caller.access_token}, headers=other)["active"]
