"""The per-request access check: one verification, one query, revocation at once."""

import pytest
from jwt.api_jws import PyJWS

from app.users import admin
from tests.helpers import assert_error, assert_ok
from tests.urls import LOGOUT, ME


def test_access_token_is_verified_once_per_request(auth, monkeypatch):
    caller = auth.register()
    loads = []
    original = PyJWS._load

    def counting_load(self, jwt):
        loads.append(jwt)
        return original(self, jwt)

    monkeypatch.setattr(PyJWS, "_load", counting_load)
    assert_ok(caller.client.get(ME, headers=caller.headers))
    # Signed with the current key: verified at once, its header checked after.
    assert loads == [caller.access_token]


def test_token_of_a_retired_key_reads_the_header_first(auth, monkeypatch):
    """Not the current key: one failed try, then the header names the key."""
    caller = auth.register()
    from app.auth import tokens

    monkeypatch.setattr(
        tokens,
        "current_header",
        lambda kind: {"typ": kind, "alg": "HS256", "kid": "not-the-key"},
    )
    assert_ok(caller.client.get(ME, headers=caller.headers))


def test_access_check_is_one_query(auth, statements):
    caller = auth.register()
    statements.clear()
    assert_ok(caller.client.get(ME, headers=caller.headers))
    assert len(statements) == 1, statements
    assert "sessions" in statements[0] and "users" in statements[0]


def test_checked_user_can_be_changed_and_committed(app, auth):
    caller = auth.register()
    # One app context around several requests: the user is already in the session's
    # identity map on the second call and must be reused, not attached twice.
    with app.app_context():
        assert_ok(caller.client.get(ME, headers=caller.headers))
        changed = caller.client.patch(ME, json={"name": "Lin"}, headers=caller.headers)
        assert assert_ok(changed)["user"]["name"] == "Lin"
    again = assert_ok(caller.client.get(ME, headers=caller.headers))
    assert again["user"]["name"] == "Lin"


def test_logout_refuses_the_access_token_at_once(auth):
    caller = auth.register()
    assert_ok(caller.client.get(ME, headers=caller.headers))
    assert_ok(caller.client.post(LOGOUT, headers=caller.headers))
    assert_error(caller.client.get(ME, headers=caller.headers), 401, "token_revoked")


def test_deactivation_is_seen_by_the_next_request(app, auth):
    caller = auth.register()
    with app.app_context():
        assert_ok(caller.client.get(ME, headers=caller.headers))
        admin.deactivate_account(email=caller.user["email"])
        response = caller.client.get(ME, headers=caller.headers)
    assert_error(response, 403, "account_disabled")


@pytest.mark.parametrize(
    ("header", "status", "code"),
    [
        ("Bearer {token}, Basic dXNlcjpwYXNz", 200, None),
        ("Basic dXNlcjpwYXNz, Bearer {token}", 200, None),
        ("Bearer {token}, Bearer {token}", 401, "token_missing"),
        ("Bearer {token} extra", 401, "token_invalid"),
        (" ,Bearer {token}, ", 200, None),
        ("Basic a, \t ,b", 401, "token_missing"),
        ("bearer {token}", 200, None),  # RFC 7235: the scheme is case-insensitive
        ("BEARER {token}", 200, None),
    ],
)
def test_authorization_header_fields(auth, header, status, code):
    caller = auth.register()
    value = header.format(token=caller.access_token)
    response = caller.client.get(ME, headers={"Authorization": value})
    if code is None:
        assert_ok(response, status)
    else:
        assert_error(response, status, code)


def test_refresh_token_is_not_an_access_token(auth):
    caller = auth.register()
    headers = {"Authorization": f"Bearer {caller.refresh_token}"}
    assert_error(caller.client.get(ME, headers=headers), 401, "token_invalid")
