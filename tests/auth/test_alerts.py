"""Security alerts by mail, and their "This wasn't me" link (POST /compromised)."""

import pytest

from app import events
from tests.audit.support import audit_types
from tests.auth.flows import FRONTEND_URL, NEW_PASSWORD, token_of
from tests.conftest import PASSWORD
from tests.helpers import assert_error, assert_ok
from tests.urls import COMPROMISED, LOGIN, ME, PASSWORD_CHANGE, REFRESH

# Off by default in tests (every test client is a new device).
pytestmark = pytest.mark.config(ALERT_NEW_DEVICE=True)
WASNT_ME = f"{FRONTEND_URL}/this-wasnt-me?token="
RESET = f"{FRONTEND_URL}/reset-password?token="
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def settings(mail_settings):
    return {**mail_settings, "FRONTEND_URL": FRONTEND_URL}


def sign_in(app, email, *, device_token=None, user_agent=PHONE):
    body = {"email": email, "password": PASSWORD}
    if device_token:
        body["deviceToken"] = device_token
    client = app.test_client()
    response = client.post(
        LOGIN,
        json=body,
        headers={"X-Auth-Mode": "bearer", "User-Agent": user_agent},
        environ_base={"REMOTE_ADDR": "198.51.100.23"},
    )
    return assert_ok(response)


def alerts_to(mailbox, email, subject):
    return [m for m in mailbox.to(email) if m.subject == subject]


def test_new_device_alert_and_its_link_sign_everything_out(app, auth, mailbox):
    caller = auth.register()
    email = caller.extra["email"]
    signed_in = sign_in(app, email)
    [alert] = alerts_to(mailbox, email, "New sign-in to your account")
    assert "Mobile Safari 17 on iOS" in alert.text and "198.51.100.23" in alert.text
    token = token_of(alert.link(WASNT_ME))

    report = app.test_client().post(COMPROMISED, json={"token": token})
    assert assert_ok(report)["revoked"] == 2
    for access in (caller.access_token, signed_in["accessToken"]):
        response = app.test_client().get(
            ME, headers={"Authorization": f"Bearer {access}"}
        )
        assert_error(response, 401, "token_revoked")
    # A reset link follows, and the report is in the trail and the user's feed.
    [reset] = [m for m in mailbox.wait_for(2) if m.subject == "Reset your password"]
    assert reset.link(RESET)
    assert events.COMPROMISE_REPORTED in audit_types(app)
    # Single use: replayed, it is refused and changes nothing more.
    again = app.test_client().post(COMPROMISED, json={"token": token})
    assert_error(again, 401, "token_invalid")


def test_a_known_device_gets_no_alert(app, auth, mailbox):
    caller = auth.register()
    first = sign_in(app, caller.extra["email"])
    mailbox.clear()
    sign_in(app, caller.extra["email"], device_token=first["deviceToken"])
    assert mailbox.messages == []


@pytest.mark.config(ALERT_NEW_DEVICE=False)
def test_the_new_device_alert_can_be_turned_off(app, auth, mailbox):
    caller = auth.register()
    sign_in(app, caller.extra["email"])
    assert mailbox.messages == []


def test_refresh_reuse_alert(app, auth, mailbox, move_clock):
    caller = auth.register()
    assert_ok(caller.client.post(REFRESH, headers=caller.refresh_headers))
    move_clock(seconds=app.config["REFRESH_REUSE_GRACE_SECONDS"] + 1)
    replay = caller.client.post(REFRESH, headers=caller.refresh_headers)
    assert_error(replay, 401, "token_revoked")
    [alert] = alerts_to(
        mailbox, caller.extra["email"], "We signed out a session of yours"
    )
    assert "old sign-in of yours" in alert.text
    assert alert.link(WASNT_ME)


def test_password_changed_notice_carries_the_link(app, auth, mailbox):
    caller = auth.register()
    change = caller.client.post(
        PASSWORD_CHANGE,
        json={"oldPassword": PASSWORD, "newPassword": NEW_PASSWORD},
        headers=caller.headers,
    )
    assert_ok(change)
    [notice] = alerts_to(mailbox, caller.extra["email"], "Your password was changed")
    token = token_of(notice.link(WASNT_ME))
    assert_ok(app.test_client().post(COMPROMISED, json={"token": token}))
    assert_error(caller.client.get(ME, headers=caller.headers), 401, "token_revoked")


def test_the_report_voids_outstanding_reset_links(app, auth, mailbox):
    caller = auth.register()
    email = caller.extra["email"]
    sign_in(app, email)
    [alert] = alerts_to(mailbox, email, "New sign-in to your account")
    assert_ok(
        app.test_client().post("/api/v1/auth/password/reset", json={"email": email}),
        202,
    )
    [old_reset] = [m for m in mailbox.wait_for(2) if m.subject == "Reset your password"]
    old_token = token_of(old_reset.link(RESET))
    assert_ok(
        app.test_client().post(
            COMPROMISED, json={"token": token_of(alert.link(WASNT_ME))}
        )
    )
    confirm = app.test_client().post(
        "/api/v1/auth/password/reset/confirm",
        json={"token": old_token, "newPassword": NEW_PASSWORD},
    )
    assert_error(confirm, 401, "token_invalid")


def test_an_expired_link_is_refused(app, auth, mailbox, move_clock):
    caller = auth.register()
    sign_in(app, caller.extra["email"])
    [alert] = alerts_to(mailbox, caller.extra["email"], "New sign-in to your account")
    move_clock(seconds=app.config["COMPROMISED_LINK_TTL"] + 1)
    response = app.test_client().post(
        COMPROMISED, json={"token": token_of(alert.link(WASNT_ME))}
    )
    assert_error(response, 401, "token_expired")
    assert_ok(caller.client.get(ME, headers=caller.headers))


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"token": "x" * 43}, 401, "token_invalid"),
        ({"token": ""}, 400, "validation_error"),
        ({}, 400, "validation_error"),
        ({"token": 7}, 400, "validation_error"),
    ],
)
def test_bad_report_bodies(client, body, status, code):
    assert_error(client.post(COMPROMISED, json=body), status, code)
