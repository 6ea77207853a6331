"""The verification mail of registration, REQUIRE_EMAIL_VERIFICATION and the resend."""

import pytest

from app import clock
from tests.auth.flows import FRONTEND_URL, token_of
from tests.conftest import PASSWORD
from tests.helpers import assert_error, assert_ok
from tests.urls import (
    EMAIL_VERIFY_CONFIRM,
    EMAIL_VERIFY_REQUEST,
    EMAIL_VERIFY_RESEND,
    LOGIN,
    REFRESH,
)

pytestmark = pytest.mark.config(FRONTEND_URL=FRONTEND_URL)
VERIFY_LINK = f"{FRONTEND_URL}/verify-email?token="
REQUIRED = {"REQUIRE_EMAIL_VERIFICATION": True}


@pytest.fixture
def settings(mail_settings):
    return mail_settings


def login(app, email, password=PASSWORD):
    return app.test_client().post(
        LOGIN,
        json={"email": email, "password": password},
        headers={"X-Auth-Mode": "bearer"},
    )


def resend(app, email):
    return app.test_client().post(EMAIL_VERIFY_RESEND, json={"email": email})


def test_registration_mails_the_verification_link(app, auth, mailbox):
    caller = auth.register(keep_mail=True)
    [mail] = mailbox.wait_for(1)
    assert mail.rcpt_tos == [caller.extra["email"]]
    assert mail.subject == "Confirm your email address"
    token = token_of(mail.link(VERIFY_LINK))
    user = assert_ok(
        app.test_client().post(EMAIL_VERIFY_CONFIRM, json={"token": token})
    )["user"]
    assert user["emailVerified"] is True


@pytest.mark.config(**REQUIRED)
def test_unverified_accounts_cannot_log_in_or_refresh_until_confirmed(
    app, auth, mailbox
):
    caller = auth.register(mode="bearer")
    email = caller.extra["email"]
    mailbox.clear()
    # Only after the right password: a wrong one is the usual 401.
    assert_error(login(app, email, "wrong password"), 401, "invalid_credentials")
    assert_error(login(app, email), 403, "email_unverified")
    refresh = caller.client.post(REFRESH, headers=caller.refresh_headers)
    assert_error(refresh, 403, "email_unverified")
    # The access token of the registration still asks for a new link.
    answer = caller.client.post(EMAIL_VERIFY_REQUEST, headers=caller.headers)
    assert_ok(answer, 202)
    [mail] = mailbox.wait_for(1)
    token = token_of(mail.link(VERIFY_LINK))
    assert_ok(app.test_client().post(EMAIL_VERIFY_CONFIRM, json={"token": token}))
    assert_ok(login(app, email))
    assert_ok(caller.client.post(REFRESH, headers=caller.refresh_headers))


@pytest.mark.config(**REQUIRED)
def test_resend_is_202_for_every_address_and_mails_only_the_unverified(
    app, auth, mailbox, make_user
):
    waiting = auth.register()
    unverified = make_user(email_verified_at=None)
    verified = make_user(email_verified_at=clock.now())
    disabled = make_user(is_active=False)
    mailbox.clear()
    answers = [
        resend(app, address)
        for address in (
            waiting.extra["email"].upper(),
            "nobody@example.com",
            unverified.email,
            verified.email,
            disabled.email,
        )
    ]
    bodies = [assert_ok(answer, 202) for answer in answers]
    assert all(body == bodies[0] for body in bodies)
    mails = mailbox.wait_for(2)
    assert sorted(m.rcpt_tos[0] for m in mails) == sorted(
        [waiting.extra["email"], unverified.email]
    )
    [mail] = [m for m in mails if m.rcpt_tos == [waiting.extra["email"]]]
    token = token_of(mail.link(VERIFY_LINK))
    assert_ok(app.test_client().post(EMAIL_VERIFY_CONFIRM, json={"token": token}))
    assert_ok(login(app, waiting.extra["email"]))
    # Verified now: a resend mails nothing.
    mailbox.clear()
    assert_ok(resend(app, waiting.extra["email"]), 202)
    assert mailbox.messages == []


def test_the_registration_link_dies_when_a_new_one_is_sent(app, auth, mailbox):
    caller = auth.register(keep_mail=True)
    [first] = mailbox.wait_for(1)
    mailbox.clear()
    assert_ok(resend(app, caller.extra["email"]), 202)
    [second] = mailbox.wait_for(1)
    old = {"token": token_of(first.link(VERIFY_LINK))}
    new = {"token": token_of(second.link(VERIFY_LINK))}
    assert_error(
        app.test_client().post(EMAIL_VERIFY_CONFIRM, json=old), 401, "token_invalid"
    )
    assert_ok(app.test_client().post(EMAIL_VERIFY_CONFIRM, json=new))


@pytest.mark.parametrize(
    "body",
    [{}, {"email": "not an email"}, {"email": "a\u200b@example.com"}, {"email": 4}],
)
def test_resend_refuses_bad_bodies(app, mailbox, body):
    answer = app.test_client().post(EMAIL_VERIFY_RESEND, json=body)
    assert_error(answer, 400, "validation_error")


@pytest.mark.ratelimit
@pytest.mark.config(RATELIMIT_EMAIL_VERIFY_RESEND="2 per minute")
def test_resend_is_rate_limited_per_address(app, mailbox):
    for _ in range(2):
        assert_ok(resend(app, "someone@example.com"), 202)
    assert_error(resend(app, "SOMEONE@example.com"), 429, "rate_limited")
    assert_ok(resend(app, "someone.else@example.com"), 202)
