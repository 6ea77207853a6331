"""Audit events: written with the change they record, never without it."""

import uuid

import jwt
import pytest
from sqlalchemy.orm import Session

from app import events
from tests.audit.support import audit_rows, audit_types
from tests.auth.flows import FRONTEND_URL, NEW_PASSWORD, token_of
from tests.conftest import PASSWORD
from tests.helpers import assert_error, assert_ok
from tests.urls import (
    LOGIN,
    LOGOUT,
    LOGOUT_ALL,
    ME,
    PASSWORD_CHANGE,
    PASSWORD_RESET,
    PASSWORD_RESET_CONFIRM,
    REFRESH,
    SESSIONS,
)

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def uid(caller):
    return uuid.UUID(caller.user["id"])


def test_registration_row_has_who_where_and_which_request(app, auth):
    client = app.test_client()
    response = client.post(
        "/api/v1/auth/register",
        json={"name": "Ada", "email": "ada@example.com", "password": PASSWORD},
        headers={
            "X-Auth-Mode": "bearer",
            "User-Agent": BROWSER,
            "X-Request-ID": "req-audit-1",
        },
        environ_base={"REMOTE_ADDR": "203.0.113.77"},
    )
    data = assert_ok(response, 201)
    [row] = audit_rows(app)
    assert row.type == events.REGISTERED
    assert str(row.user_id) == data["user"]["id"]
    assert (row.actor_type, str(row.actor_id)) == ("user", data["user"]["id"])
    assert row.session_id is not None
    assert row.ip == "203.0.113.77"
    assert row.user_agent == BROWSER
    assert row.request_id == "req-audit-1"
    assert row.occurred_at is not None
    assert PASSWORD not in repr(row.details)


@pytest.mark.config(AUDIT_IP_STORAGE="truncated")
@pytest.mark.parametrize(
    ("address", "stored"),
    [("203.0.113.77", "203.0.113.0/24"), ("2001:db8:1:2:3::9", "2001:db8:1:2::/64")],
)
def test_ips_can_be_stored_truncated(app, make_user, address, stored):
    user = make_user()
    client = app.test_client()
    response = client.post(
        LOGIN,
        json={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": address},
    )
    assert_ok(response)
    [row] = audit_rows(app, type=events.LOGIN_OK)
    assert row.ip == stored


def test_logins_ok_and_failed_with_their_reason(app, client, make_user):
    user = make_user()
    wrong = client.post(LOGIN, json={"email": user.email, "password": "nope nope 1"})
    assert_error(wrong, 401, "invalid_credentials")
    unknown = client.post(LOGIN, json={"email": "who@example.com", "password": "x" * 9})
    assert_error(unknown, 401, "invalid_credentials")
    assert_ok(client.post(LOGIN, json={"email": user.email, "password": PASSWORD}))
    rows = audit_rows(app)
    # A row per account event; the unknown email is in the log and metrics only.
    assert [r.type for r in rows] == [events.LOGIN_FAILED, events.LOGIN_OK]
    assert rows[0].details == {"reason": "wrong_password"}
    assert rows[0].user_id == user.id
    assert rows[1].details["new_device"] is True
    assert rows[1].session_id is not None


def test_disabled_account_login_is_recorded(app, client, make_user):
    user = make_user(is_active=False)
    response = client.post(LOGIN, json={"email": user.email, "password": PASSWORD})
    assert_error(response, 403, "account_disabled")
    [row] = audit_rows(app)
    assert (row.type, row.details) == (
        events.LOGIN_FAILED,
        {"reason": "account_disabled"},
    )


def test_session_events_name_their_session(app, auth):
    caller = auth.register()
    other = auth.login(caller.extra["email"])
    third = auth.login(caller.extra["email"])
    third_id = jwt.decode(third.access_token, options={"verify_signature": False})[
        "sid"
    ]
    assert_ok(caller.client.delete(f"{SESSIONS}/{third_id}", headers=caller.headers))
    assert_ok(other.client.post(LOGOUT, headers=other.refresh_headers))
    assert_ok(caller.client.post(LOGOUT_ALL, headers=caller.headers))
    types = audit_types(app, user_id=uid(caller))
    assert types == [
        events.REGISTERED,
        events.LOGIN_OK,
        events.LOGIN_OK,
        events.SESSION_REVOKED,
        events.LOGOUT,
        events.LOGOUT_ALL,
    ]
    revoked = audit_rows(app, type=events.SESSION_REVOKED)[0]
    assert str(revoked.session_id) == third_id
    assert revoked.details == {"by": "user"}


def test_refresh_reuse_is_recorded_and_rotation_is_not(app, auth):
    caller = auth.register()
    first = assert_ok(caller.client.post(REFRESH, headers=caller.refresh_headers))
    assert first["refreshToken"] != caller.refresh_token
    assert audit_types(app) == [events.REGISTERED]


def test_reuse_detected(app, auth, move_clock):
    caller = auth.register()
    assert_ok(caller.client.post(REFRESH, headers=caller.refresh_headers))
    move_clock(seconds=app.config["REFRESH_REUSE_GRACE_SECONDS"] + 1)
    replay = caller.client.post(REFRESH, headers=caller.refresh_headers)
    assert_error(replay, 401, "token_revoked")
    [row] = audit_rows(app, type=events.REUSE_DETECTED)
    assert row.user_id == uid(caller)
    assert row.session_id is not None


def test_password_change_and_reset(app, auth, mailbox):
    caller = auth.register()
    change = caller.client.post(
        PASSWORD_CHANGE,
        json={"oldPassword": PASSWORD, "newPassword": NEW_PASSWORD},
        headers=caller.headers,
    )
    assert_ok(change)
    assert_ok(
        caller.client.post(PASSWORD_RESET, json={"email": caller.extra["email"]}), 202
    )
    reset = next(
        m for m in mailbox.wait_for(2) if m.subject != "Your password was changed"
    )
    token = token_of(reset.link(f"{FRONTEND_URL}/reset-password?token="))
    confirm = caller.client.post(
        PASSWORD_RESET_CONFIRM, json={"token": token, "newPassword": PASSWORD + "!"}
    )
    assert_ok(confirm)
    rows = audit_rows(app, user_id=uid(caller))
    assert [r.type for r in rows][1:] == [
        events.PASSWORD_CHANGED,
        events.RESET_REQUESTED,
        events.RESET_COMPLETED,
    ]
    for row in rows:
        assert token not in repr(row.details)
        assert NEW_PASSWORD not in repr(row.details)


@pytest.fixture
def settings(mail_settings):
    return {**mail_settings, "FRONTEND_URL": FRONTEND_URL}


def test_a_change_that_rolls_back_leaves_no_event(app, auth, monkeypatch):
    caller = auth.register()
    other = auth.login(caller.extra["email"])

    def failing_commit(self):
        raise RuntimeError("the database went away mid-commit")

    monkeypatch.setattr(Session, "commit", failing_commit)
    response = caller.client.post(LOGOUT_ALL, headers=caller.headers)
    assert response.status_code == 500
    monkeypatch.undo()
    # Neither the change nor its event: the other session lives, no logout_all row.
    assert_ok(other.client.get(ME, headers=other.headers))
    assert events.LOGOUT_ALL not in audit_types(app)


def test_me_and_refresh_write_no_audit_rows(app, auth, statements):
    caller = auth.register()
    statements.clear()
    assert_ok(caller.client.get(ME, headers=caller.headers))
    assert len(statements) == 1, statements
    statements.clear()
    assert_ok(caller.client.post(REFRESH, headers=caller.refresh_headers))
    # As before the audit trail: one read, one conditional UPDATE, no audit INSERT.
    assert [s.split()[0] for s in statements] == ["SELECT", "UPDATE"], statements
    assert audit_types(app) == [events.REGISTERED]


def test_purge_prunes_old_events(app, auth, runner, move_clock):
    auth.register()
    move_clock(days=400)
    kept = auth.register()
    result = runner.invoke(args=["auth", "purge"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 audit events older than 365 days." in result.output
    assert [r.user_id for r in audit_rows(app)] == [uid(kept)]


def test_second_factor_events_are_in_the_trail(auth, move_clock):
    """Turned on, a wrong code, a login with the second factor: each one row."""
    from tests.auth.mfa import code_at, enrol, password_step, verify, wrong_code

    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    client = auth.app.test_client()
    data, _ = password_step(client, caller.extra["email"], mode="bearer")
    response = verify(client, data["mfaToken"], mode="bearer", code=wrong_code(secret))
    assert response.status_code == 401
    move_clock(seconds=31)
    data, _ = password_step(client, caller.extra["email"], mode="bearer")
    response = verify(client, data["mfaToken"], mode="bearer", code=code_at(secret))
    assert response.status_code == 200, response.get_json()
    types = audit_types(auth.app, user_id=uuid.UUID(caller.user["id"]))
    assert types.count("mfa_enabled") == 1
    assert types.count("mfa_failed") == 1
    assert types[-1] == "login_ok"
