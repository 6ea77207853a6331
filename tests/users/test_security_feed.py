"""GET /users/me/security-events: the account's own history, in plain words."""

import pytest

from tests.conftest import PASSWORD
from tests.helpers import assert_error, assert_ok
from tests.urls import LOGIN, LOGOUT_ALL, SECURITY_EVENTS, admin_user

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def feed(caller, **params):
    return assert_ok(
        caller.client.get(SECURITY_EVENTS, headers=caller.headers, query_string=params)
    )


def test_feed_says_what_when_where_newest_first(app, auth):
    caller = auth.register()
    stranger = app.test_client()
    stranger.post(
        LOGIN,
        json={"email": caller.extra["email"], "password": "wrong password 1"},
        headers={"User-Agent": FIREFOX},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    events = feed(caller)["events"]
    assert [e["type"] for e in events] == ["login_failed", "registered"]
    failed = events[0]
    assert failed["description"] == (
        "Someone tried to sign in and failed (wrong password)."
    )
    assert failed["device"] == "Firefox 128 on Linux"
    assert failed["ip"] == "198.51.100.7"
    assert failed["by"] == "you"
    assert failed["occurredAt"].endswith("Z")


def test_feed_pages_and_cursors_belong_to_one_account(auth):
    caller = auth.register()
    for _ in range(3):
        auth.login(caller.extra["email"])
    first = feed(caller, limit=3)
    assert [e["type"] for e in first["events"]] == ["login_ok"] * 3
    rest = feed(caller, limit=3, cursor=first["nextCursor"])
    assert [e["type"] for e in rest["events"]] == ["registered"]
    assert rest["nextCursor"] is None
    other = auth.register()
    stolen = other.client.get(
        SECURITY_EVENTS,
        headers=other.headers,
        query_string={"cursor": first["nextCursor"]},
    )
    assert_error(stolen, 400, "invalid_cursor")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"cursor": "x"}, "invalid_cursor"),
        ({"cursor": "a b"}, "validation_error"),
        ({"limit": "1000"}, "validation_error"),
        ({"userId": "someone-else"}, "validation_error"),
    ],
)
def test_bad_feed_parameters_are_400(auth, params, code):
    caller = auth.register()
    response = caller.client.get(
        SECURITY_EVENTS, headers=caller.headers, query_string=params
    )
    assert_error(response, 400, code)


def test_admin_actions_show_who_did_them(auth, promote):
    caller = auth.register()
    admin = promote(auth.register())
    assert_ok(admin.client.get(admin_user(caller.user["id"]), headers=admin.headers))
    assert_ok(
        admin.client.delete(
            admin_user(caller.user["id"], "sessions"), headers=admin.headers
        )
    )
    fresh = auth.login(caller.extra["email"], PASSWORD)
    events = feed(fresh)["events"]
    # An admin looking at the account is in the admin trail, not the user's feed.
    assert [(e["type"], e["by"]) for e in events] == [
        ("login_ok", "you"),
        ("session_revoked", "an administrator"),
        ("registered", "you"),
    ]


def test_feed_is_read_only(app, auth, statements):
    caller = auth.register()
    assert_ok(caller.client.post(LOGOUT_ALL, headers=caller.headers))
    caller = auth.login(caller.extra["email"])
    statements.clear()
    feed(caller)
    writes = [s for s in statements if s.split()[0] in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []
