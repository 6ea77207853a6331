"""The notice that two-factor sign-in was turned off carries "This wasn't me"."""

import pytest

from tests.auth.flows import FRONTEND_URL, token_of
from tests.auth.mfa import code_at, enrol
from tests.conftest import PASSWORD
from tests.helpers import assert_error, assert_ok
from tests.urls import COMPROMISED, ME, MFA_TOTP

pytestmark = pytest.mark.config(FRONTEND_URL=FRONTEND_URL)
COMPROMISED_LINK = f"{FRONTEND_URL}/this-wasnt-me?token="


@pytest.fixture
def settings(mail_settings):
    return mail_settings


def turn_off(caller, secret):
    answer = caller.client.delete(
        MFA_TOTP,
        json={"password": PASSWORD, "code": code_at(secret)},
        headers=caller.headers,
    )
    assert_ok(answer)


def test_the_mfa_off_notice_has_a_working_this_wasnt_me_link(
    app, auth, mailbox, move_clock
):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    mailbox.clear()
    turn_off(caller, secret)
    [notice] = mailbox.wait_for(1)
    assert notice.subject == "Two-factor sign-in was turned off"
    token = token_of(notice.link(COMPROMISED_LINK))
    assert_ok(app.test_client().post(COMPROMISED, json={"token": token}))
    assert_error(caller.client.get(ME, headers=caller.headers), 401, "token_revoked")


@pytest.mark.config(ALERT_MFA_DISABLED=False)
def test_the_link_can_be_turned_off(app, auth, mailbox, move_clock):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    mailbox.clear()
    turn_off(caller, secret)
    [notice] = mailbox.wait_for(1)
    assert notice.links(COMPROMISED_LINK) == []
