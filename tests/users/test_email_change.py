"""Email change over real SMTP: request, confirm (new address), revert (old one)."""

import threading

import pytest

from tests.auth.flows import FRONTEND_URL, NEW_PASSWORD, token_of
from tests.auth.mfa import code_at, enrol
from tests.conftest import PASSWORD
from tests.helpers import assert_error, assert_ok
from tests.urls import (
    COMPROMISED,
    EMAIL_CHANGE_CONFIRM,
    EMAIL_CHANGE_REVERT,
    LOGIN,
    ME,
    ME_EMAIL,
    MFA_STEP_UP,
    PASSWORD_CHANGE,
    REFRESH,
    REGISTER,
    SECURITY_EVENTS,
)

pytestmark = pytest.mark.config(FRONTEND_URL=FRONTEND_URL)
CONFIRM_LINK = f"{FRONTEND_URL}/confirm-email-change?token="
REVERT_LINK = f"{FRONTEND_URL}/revert-email-change?token="
COMPROMISED_LINK = f"{FRONTEND_URL}/this-wasnt-me?token="


@pytest.fixture
def settings(mail_settings):
    return mail_settings


def ask(caller, new_email, password=PASSWORD):
    return caller.client.post(
        ME_EMAIL,
        json={"newEmail": new_email, "password": password},
        headers=caller.headers,
    )


def confirm(client, token, headers=None):
    return client.post(EMAIL_CHANGE_CONFIRM, json={"token": token}, headers=headers)


def mails_to(mailbox, address):
    return [m for m in mailbox.messages if address in m.rcpt_tos]


def confirm_token(mailbox, address):
    mailbox.wait_for(1)
    [mail] = [m for m in mails_to(mailbox, address) if m.links(CONFIRM_LINK)]
    return token_of(mail.link(CONFIRM_LINK))


def registered(auth, mailbox, **kwargs):
    """A caller, with the registration's verification mail already delivered."""
    caller = auth.register(**kwargs)
    mailbox.clear()
    return caller


def test_change_confirm_and_revert_end_to_end(app, auth, mailbox):
    caller = registered(auth, mailbox)
    other = auth.login(caller.extra["email"])
    old, new = caller.extra["email"], "ada.new@example.com"
    assert_ok(ask(caller, new), 202)
    # Nothing changes before the link is followed.
    assert assert_ok(caller.client.get(ME, headers=caller.headers))["user"][
        "email"
    ] == (old)
    mailbox.wait_for(2)
    [notice] = mails_to(mailbox, old)
    assert notice.subject == "A change of your email address was requested"
    assert not notice.links(CONFIRM_LINK)
    token = confirm_token(mailbox, new)
    mailbox.clear()

    user = assert_ok(confirm(caller.client, token, caller.headers))["user"]
    assert user["email"] == new and user["emailVerified"] is True
    # The confirming session stays; the other one ended.
    assert_ok(caller.client.get(ME, headers=caller.headers))
    assert_error(other.client.get(ME, headers=other.headers), 401, "token_revoked")
    # The old address: a revert link and a "This wasn't me" link.
    [changed] = mailbox.wait_for(1)
    assert changed.rcpt_tos == [old]
    assert changed.subject == "Your email address was changed"
    assert new in changed.text
    revert_token = token_of(changed.link(REVERT_LINK))
    assert changed.link(COMPROMISED_LINK)
    # Login works with the new address only.
    auth.login(new)
    refused = caller.client.post(LOGIN, json={"email": old, "password": PASSWORD})
    assert_error(refused, 401, "invalid_credentials")

    reverted = assert_ok(
        caller.client.post(EMAIL_CHANGE_REVERT, json={"token": revert_token})
    )
    assert reverted["revoked"] >= 2
    assert_error(caller.client.get(ME, headers=caller.headers), 401, "token_revoked")
    back = auth.login(old)
    assert back.user["email"] == old
    again = caller.client.post(EMAIL_CHANGE_REVERT, json={"token": revert_token})
    assert_error(again, 401, "token_invalid")
    types = [
        event["type"]
        for event in assert_ok(back.client.get(SECURITY_EVENTS, headers=back.headers))[
            "events"
        ]
    ]
    for event in ("email_change_requested", "email_changed", "email_change_reverted"):
        assert event in types


def test_confirm_without_an_access_token_ends_every_session(app, auth, mailbox):
    caller = registered(auth, mailbox)
    assert_ok(ask(caller, "solo@example.com"), 202)
    token = confirm_token(mailbox, "solo@example.com")
    assert_ok(confirm(app.test_client(), token))
    assert_error(caller.client.get(ME, headers=caller.headers), 401, "token_revoked")


def test_an_address_of_another_account_gets_the_same_answer_and_no_link(
    app, auth, mailbox
):
    taken = registered(auth, mailbox)
    caller = registered(auth, mailbox)
    answer = ask(caller, taken.extra["email"].upper())
    assert assert_ok(answer, 202) == assert_ok(ask(caller, "free@example.com"), 202)
    mails = mailbox.wait_for(3)
    assert not [m for m in mails if taken.extra["email"] in m.rcpt_tos]
    assert [m for m in mails if "free@example.com" in m.rcpt_tos]


def test_confirm_onto_an_address_taken_meanwhile_is_409_and_changes_nothing(
    app, auth, mailbox
):
    caller = registered(auth, mailbox)
    assert_ok(ask(caller, "contested@example.com"), 202)
    token = confirm_token(mailbox, "contested@example.com")
    auth.register(email="contested@example.com")
    assert_error(confirm(caller.client, token, caller.headers), 409, "email_taken")
    me = assert_ok(caller.client.get(ME, headers=caller.headers))["user"]
    assert me["email"] == caller.extra["email"]


def test_a_new_request_voids_the_older_link(app, auth, mailbox):
    caller = registered(auth, mailbox)
    assert_ok(ask(caller, "first@example.com"), 202)
    first = confirm_token(mailbox, "first@example.com")
    assert_ok(ask(caller, "second@example.com"), 202)
    second = confirm_token(mailbox, "second@example.com")
    assert_error(confirm(caller.client, first, caller.headers), 401, "token_invalid")
    assert assert_ok(confirm(caller.client, second, caller.headers))["user"][
        "email"
    ] == ("second@example.com")


@pytest.mark.parametrize(
    "new_email",
    [
        "not an email",
        "ada@exa\u200bmple.com",
        "ada\u202e@example.com",
        "ada\u0000@example.com",
        "ad\ud800a@example.com",
        "a" * 250 + "@example.com",
        "",
    ],
    ids=["garbage", "zero-width", "bidi", "nul", "surrogate", "over-long", "empty"],
)
def test_bad_new_addresses_are_400(app, auth, mailbox, new_email):
    caller = registered(auth, mailbox)
    body = assert_error(ask(caller, new_email), 400, "validation_error")
    assert "newEmail" in body["details"]
    assert mailbox.messages == []


@pytest.mark.parametrize("variant", [str, str.upper, lambda e: f"  {e.title()} "])
def test_the_current_address_in_any_case_is_400(app, auth, mailbox, variant):
    caller = registered(auth, mailbox)
    answer = ask(caller, variant(caller.extra["email"]))
    body = assert_error(answer, 400, "validation_error")
    assert body["details"] == {
        "newEmail": ["This is the account's email address already."]
    }
    assert mailbox.messages == []


@pytest.mark.parametrize(
    "body",
    [
        {"newEmail": "x@example.com"},
        {"newEmail": 5, "password": PASSWORD},
        {"newEmail": "x@example.com", "password": PASSWORD, "extra": 1},
    ],
)
def test_malformed_bodies_are_400(app, auth, body):
    caller = auth.register()
    answer = caller.client.post(ME_EMAIL, json=body, headers=caller.headers)
    assert_error(answer, 400, "validation_error")
    not_json = caller.client.post(
        ME_EMAIL,
        data="{",
        headers={**caller.headers, "Content-Type": "application/json"},
    )
    assert_error(not_json, 400, "invalid_json")


def test_wrong_password_is_400_and_sends_nothing(app, auth, mailbox):
    caller = registered(auth, mailbox)
    answer = ask(caller, "x@example.com", password="not the password")
    assert_error(answer, 400, "invalid_credentials")
    assert mailbox.messages == []


@pytest.mark.ratelimit
@pytest.mark.config(RATELIMIT_LOGIN_ACCOUNT="2 per minute")
def test_wrong_passwords_are_rate_limited_like_a_password_change(app, auth):
    caller = auth.register()
    for _ in range(2):
        assert_error(
            ask(caller, "x@example.com", "wrong one"), 400, "invalid_credentials"
        )
    assert_error(ask(caller, "x@example.com"), 429, "rate_limited")
    # The same counter as the password change's wrong old passwords.
    change = caller.client.post(
        PASSWORD_CHANGE,
        json={"oldPassword": PASSWORD, "newPassword": NEW_PASSWORD},
        headers=caller.headers,
    )
    assert_error(change, 429, "rate_limited")


def test_confirm_token_twice_expired_or_garbage(app, auth, mailbox, move_clock):
    caller = registered(auth, mailbox)
    assert_ok(ask(caller, "twice@example.com"), 202)
    token = confirm_token(mailbox, "twice@example.com")
    assert_ok(confirm(caller.client, token, caller.headers))
    assert_error(confirm(caller.client, token, caller.headers), 401, "token_invalid")
    for garbage in ("short", "x" * 43, "é" * 43):
        assert_error(confirm(app.test_client(), garbage), 401, "token_invalid")
    mailbox.clear()
    assert_ok(ask(caller, "later@example.com"), 202)
    late = confirm_token(mailbox, "later@example.com")
    move_clock(seconds=app.config["EMAIL_CHANGE_TTL"] + 1)
    assert_error(confirm(app.test_client(), late), 401, "token_expired")


def test_confirm_token_of_another_account_is_refused(app, auth, mailbox):
    owner = registered(auth, mailbox)
    stranger = registered(auth, mailbox)
    assert_ok(ask(owner, "owned@example.com"), 202)
    token = confirm_token(mailbox, "owned@example.com")
    refused = confirm(stranger.client, token, stranger.headers)
    assert_error(refused, 401, "token_invalid")
    # Neither account changed, and the link still works for its owner.
    for caller in (owner, stranger):
        me = assert_ok(caller.client.get(ME, headers=caller.headers))["user"]
        assert me["email"] == caller.extra["email"]
    assert_ok(confirm(owner.client, token, owner.headers))


def test_confirm_token_dies_with_a_password_change(app, auth, mailbox):
    caller = registered(auth, mailbox)
    assert_ok(ask(caller, "stale@example.com"), 202)
    token = confirm_token(mailbox, "stale@example.com")
    assert_ok(
        caller.client.post(
            PASSWORD_CHANGE,
            json={"oldPassword": PASSWORD, "newPassword": NEW_PASSWORD},
            headers=caller.headers,
        )
    )
    assert_error(confirm(caller.client, token, caller.headers), 401, "token_invalid")


def test_the_revert_link_outlives_a_password_change(app, auth, mailbox):
    caller = registered(auth, mailbox)
    old = caller.extra["email"]
    assert_ok(ask(caller, "thief@example.com"), 202)
    assert_ok(confirm(caller.client, confirm_token(mailbox, "thief@example.com")))
    [changed] = [m for m in mails_to(mailbox, old) if m.links(REVERT_LINK)]
    thief = auth.login("thief@example.com")
    assert_ok(
        thief.client.post(
            PASSWORD_CHANGE,
            json={"oldPassword": PASSWORD, "newPassword": NEW_PASSWORD},
            headers=thief.headers,
        )
    )
    revert = {"token": token_of(changed.link(REVERT_LINK))}
    assert_ok(app.test_client().post(EMAIL_CHANGE_REVERT, json=revert))
    assert_error(thief.client.get(ME, headers=thief.headers), 401, "token_revoked")
    assert auth.login(old, NEW_PASSWORD).user["email"] == old


def test_this_wasnt_me_of_the_changed_notice_signs_everything_out(app, auth, mailbox):
    caller = registered(auth, mailbox)
    old = caller.extra["email"]
    assert_ok(ask(caller, "moved@example.com"), 202)
    assert_ok(confirm(caller.client, confirm_token(mailbox, "moved@example.com")))
    [changed] = [m for m in mails_to(mailbox, old) if m.links(COMPROMISED_LINK)]
    moved = auth.login("moved@example.com")
    report = {"token": token_of(changed.link(COMPROMISED_LINK))}
    assert_ok(app.test_client().post(COMPROMISED, json=report))
    assert_error(moved.client.get(ME, headers=moved.headers), 401, "token_revoked")


def test_mfa_accounts_need_a_step_up(app, auth, mailbox, move_clock):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    move_clock(seconds=app.config["MFA_STEP_UP_TTL"] + 1)
    mailbox.clear()
    assert_error(ask(caller, "mfa@example.com"), 403, "mfa_required")
    assert mailbox.messages == []
    stepped = assert_ok(
        caller.client.post(
            MFA_STEP_UP, json={"code": code_at(secret)}, headers=caller.headers
        )
    )
    caller.access_token = stepped["accessToken"]
    assert_ok(ask(caller, "mfa@example.com"), 202)


def test_parallel_confirms_of_one_link_change_once(app, auth, mailbox):
    caller = registered(auth, mailbox)
    assert_ok(ask(caller, "race@example.com"), 202)
    token = confirm_token(mailbox, "race@example.com")
    statuses = []
    barrier = threading.Barrier(4)

    def attempt():
        client = app.test_client()
        barrier.wait()
        statuses.append(confirm(client, token).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 401, 401, 401]
    revert_mails = [m for m in mailbox.messages if m.links(REVERT_LINK)]
    assert len(revert_mails) == 1


def test_the_freed_old_address_can_register_and_the_refresh_still_works(
    app, auth, mailbox
):
    caller = registered(auth, mailbox, mode="bearer")
    old = caller.extra["email"]
    assert_ok(ask(caller, "fresh@example.com"), 202)
    assert_ok(
        confirm(
            caller.client, confirm_token(mailbox, "fresh@example.com"), caller.headers
        )
    )
    refreshed = caller.client.post(REFRESH, headers=caller.refresh_headers)
    assert_ok(refreshed)
    response = app.test_client().post(
        REGISTER, json={"name": "New", "email": old, "password": PASSWORD}
    )
    assert_ok(response, 201)
