"""The admin API through HTTP: each call audited with the admin as actor."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app import events
from tests.audit.support import audit_rows
from tests.auth.flows import FRONTEND_URL
from tests.helpers import assert_error, assert_ok
from tests.urls import ADMIN_AUDIT_EVENTS, ADMIN_USERS, ME, REFRESH, admin_user


def listed(admin, url=ADMIN_USERS, **params):
    return assert_ok(admin.client.get(url, headers=admin.headers, query_string=params))


def emails(page):
    return [user["email"] for user in page["users"]]


def test_pages_are_stable_under_inserts(admin, make_user, move_clock):
    made = []
    for number in range(5):
        move_clock(seconds=1)
        made.append(make_user(email=f"page{number}@example.com").email)
    first = listed(admin, query="page", limit=2)
    assert emails(first) == ["page4@example.com", "page3@example.com"]
    # Sign-ups between two pages land before the first one, not in the next.
    move_clock(seconds=1)
    make_user(email="page9@example.com")
    second = listed(admin, query="page", limit=2, cursor=first["nextCursor"])
    assert emails(second) == ["page2@example.com", "page1@example.com"]
    last = listed(admin, query="page", limit=2, cursor=second["nextCursor"])
    assert emails(last) == ["page0@example.com"]
    assert last["nextCursor"] is None


def test_listed_users_show_status_and_role(admin, make_user):
    make_user(email="gone@example.com", is_active=False)
    page = listed(admin, status="inactive")
    assert emails(page) == ["gone@example.com"]
    [me] = listed(admin, query="root@")["users"]
    assert (me["role"], me["active"]) == ("admin", True)
    assert "passwordHash" not in me


@pytest.mark.parametrize("query", ["%", "_", "\\", "a%", "a_c"])
def test_search_wildcards_are_literal(admin, make_user, query):
    make_user(email="abc@example.com", name="abc")
    make_user(email="a%c@example.com", name="a_c")
    make_user(email="back\\slash@example.com", name="b")
    found = emails(listed(admin, query=query))
    expected = {
        "%": [],
        "_": [],
        "\\": [],
        "a%": ["a%c@example.com"],
        "a_c": ["a%c@example.com"],
    }[query]
    assert found == expected


def test_search_matches_name_prefix_case_insensitively(admin, make_user):
    make_user(email="x1@example.com", name="Grace Hopper")
    assert emails(listed(admin, query="gRACE")) == ["x1@example.com"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"cursor": "garbage"}, "invalid_cursor"),
        ({"cursor": "eyJmIjoiMCIsImsiOltdfQ.abcdef"}, "invalid_cursor"),
        ({"cursor": "not a cursor!"}, "validation_error"),
        ({"limit": "0"}, "validation_error"),
        ({"limit": "101"}, "validation_error"),
        ({"limit": "ten"}, "validation_error"),
        ({"status": "sleeping"}, "validation_error"),
        ({"query": "a\x00"}, "validation_error"),
        ({"color": "blue"}, "validation_error"),
    ],
)
def test_bad_listing_parameters_are_400(admin, params, code):
    response = admin.client.get(ADMIN_USERS, headers=admin.headers, query_string=params)
    assert_error(response, 400, code)


def test_a_cursor_of_another_query_is_refused(admin, make_user):
    for _ in range(3):
        make_user()
    first = listed(admin, limit=1)
    other = admin.client.get(
        ADMIN_USERS,
        headers=admin.headers,
        query_string={"limit": 1, "status": "active", "cursor": first["nextCursor"]},
    )
    assert_error(other, 400, "invalid_cursor")
    # Nor can a user cursor page the audit trail.
    audit = admin.client.get(
        ADMIN_AUDIT_EVENTS,
        headers=admin.headers,
        query_string={"cursor": first["nextCursor"]},
    )
    assert_error(audit, 400, "invalid_cursor")


def test_user_detail(admin, auth):
    caller = auth.register()
    auth.login(caller.extra["email"])
    data = assert_ok(
        admin.client.get(admin_user(caller.user["id"]), headers=admin.headers)
    )["user"]
    assert data["email"] == caller.extra["email"]
    assert (data["role"], data["active"], data["activeSessions"]) == ("user", True, 2)
    assert data["secondFactors"] == {"mfaEnabled": False, "passkeys": 0}
    assert data["lastSignInAt"].endswith("Z")


@pytest.mark.parametrize("user_id", [str(uuid.uuid4()), "not-a-uuid", "%2e%2e"])
@pytest.mark.parametrize(
    ("method", "action"),
    [
        ("get", ""),
        ("post", "deactivate"),
        ("post", "activate"),
        ("delete", "sessions"),
        ("post", "password-reset"),
    ],
)
def test_unknown_ids_are_404(admin, user_id, method, action):
    response = getattr(admin.client, method)(
        admin_user(user_id, action), headers=admin.headers
    )
    assert_error(response, 404, "not_found")


def test_deactivation_ends_every_session_at_once(app, admin, auth):
    caller = auth.register()
    url = admin_user(caller.user["id"], "deactivate")
    data = assert_ok(admin.client.post(url, headers=admin.headers))["user"]
    assert data["active"] is False
    assert_error(caller.client.get(ME, headers=caller.headers), 403, "account_disabled")
    refresh = caller.client.post(REFRESH, headers=caller.refresh_headers)
    assert_error(refresh, 403, "account_disabled")
    assert_ok(
        admin.client.post(
            admin_user(caller.user["id"], "activate"), headers=admin.headers
        )
    )
    # Reactivated, but the old sessions stay ended.
    assert_error(caller.client.get(ME, headers=caller.headers), 401, "token_revoked")
    types = [
        (r.type, r.actor_type, str(r.actor_id))
        for r in audit_rows(app, user_id=uuid.UUID(caller.user["id"]))
    ][1:]
    assert types == [
        (events.ACCOUNT_DEACTIVATED, "admin", admin.user["id"]),
        (events.ACCOUNT_ACTIVATED, "admin", admin.user["id"]),
    ]


def test_the_last_admin_cannot_deactivate_themselves(admin, auth, promote):
    url = admin_user(admin.user["id"], "deactivate")
    assert_error(admin.client.post(url, headers=admin.headers), 409, "last_admin")
    assert_ok(admin.client.get(ME, headers=admin.headers))
    other = promote(auth.register())
    # With a second admin, one may deactivate the other.
    assert_ok(
        admin.client.post(
            admin_user(other.user["id"], "deactivate"), headers=admin.headers
        )
    )
    assert_error(admin.client.post(url, headers=admin.headers), 409, "last_admin")


def test_sign_out_everywhere(app, admin, auth):
    caller = auth.register()
    second = auth.login(caller.extra["email"])
    url = admin_user(caller.user["id"], "sessions")
    assert assert_ok(admin.client.delete(url, headers=admin.headers)) == {"revoked": 2}
    for session in (caller, second):
        assert_error(
            session.client.get(ME, headers=session.headers), 401, "token_revoked"
        )
    [row] = audit_rows(app, type=events.SESSION_REVOKED)
    assert row.details == {"by": "admin", "revoked": 2}
    assert str(row.actor_id) == admin.user["id"]


@pytest.fixture
def settings(mail_settings):
    return {**mail_settings, "FRONTEND_URL": FRONTEND_URL}


def test_password_reset_is_mailed_to_the_user_only(app, admin, auth, mailbox):
    caller = auth.register()
    response = admin.client.post(
        admin_user(caller.user["id"], "password-reset"), headers=admin.headers
    )
    data = assert_ok(response, 202)
    assert "token" not in repr(data).lower().replace("message", "")
    [mail] = mailbox.wait_for(1)
    assert mail.rcpt_tos == [caller.extra["email"]]
    assert f"{FRONTEND_URL}/reset-password?token=" in mail.text
    types = [r.type for r in audit_rows(app, user_id=uuid.UUID(caller.user["id"]))]
    assert events.ADMIN_PASSWORD_RESET in types
    assert events.RESET_REQUESTED in types


def test_audit_events_filter_and_page(app, admin, auth, make_user):
    caller = auth.register()
    for _ in range(3):
        auth.login(caller.extra["email"])
    everything = listed(admin, ADMIN_AUDIT_EVENTS, userId=caller.user["id"], limit=2)
    assert [e["type"] for e in everything["events"]] == [events.LOGIN_OK] * 2
    rest = listed(
        admin,
        ADMIN_AUDIT_EVENTS,
        userId=caller.user["id"],
        limit=2,
        cursor=everything["nextCursor"],
    )
    assert [e["type"] for e in rest["events"]] == [events.LOGIN_OK, events.REGISTERED]
    assert rest["nextCursor"] is None
    event = rest["events"][0]
    assert event["actor"] == {"type": "user", "id": caller.user["id"]}
    assert event["userId"] == caller.user["id"] and event["sessionId"]
    registered = listed(admin, ADMIN_AUDIT_EVENTS, type=events.REGISTERED)
    assert {e["userId"] for e in registered["events"]} == {
        caller.user["id"],
        admin.user["id"],
    }
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert listed(admin, ADMIN_AUDIT_EVENTS, since=future)["events"] == []
    assert listed(admin, ADMIN_AUDIT_EVENTS, until=future)["events"]
    # The admin's own reads are in the trail too.
    reads = listed(admin, ADMIN_AUDIT_EVENTS, type=events.ADMIN_AUDIT_LISTED)
    # Five listings before this one (each is recorded after it reads).
    assert len(reads["events"]) == 5
    assert reads["events"][0]["actor"] == {"type": "admin", "id": admin.user["id"]}


@pytest.mark.parametrize(
    "params",
    [
        {"userId": "nope"},
        {"type": "DROP TABLE"},
        {"since": "yesterday"},
        {"since": "2026-01-01T00:00:00"},
        {"limit": "-1"},
    ],
)
def test_bad_audit_filters_are_400(admin, params):
    response = admin.client.get(
        ADMIN_AUDIT_EVENTS, headers=admin.headers, query_string=params
    )
    assert_error(response, 400, "validation_error")
