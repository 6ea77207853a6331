"""Passkeys in the example SPA, with Chromium's own WebAuthn stack.

The authenticator is Chromium's virtual one, added through the DevTools protocol
(WebAuthn.addVirtualAuthenticator: CTAP2, internal transport, resident keys, user
verification): real browser ceremonies, nothing mocked on either side.
"""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD
from tests.e2e.test_spa import spa  # noqa: F401  (the fixture)


@pytest.fixture
def authenticator(context, spa):  # noqa: F811
    """A platform authenticator in the SPA's tab; its credentials, on demand."""
    session = context.new_cdp_session(spa.page)
    session.send("WebAuthn.enable", {"enableUI": False})
    added = session.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    authenticator_id = added["authenticatorId"]

    def credentials():
        answer = session.send(
            "WebAuthn.getCredentials", {"authenticatorId": authenticator_id}
        )
        return answer["credentials"]

    yield credentials
    session.send(
        "WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator_id}
    )


def add_passkey(spa, name):  # noqa: F811
    page = spa.page
    page.fill("#passkey-name", name)
    page.click("#passkey-add")
    expect(page.locator("#passkeys li")).to_have_count(1)
    expect(page.locator("#passkeys .passkey-name")).to_have_text(name)
    spa.expect_no_error()


def log_out(spa):  # noqa: F811
    spa.page.click("#logout")
    spa.expect_view("login")
    assert "csrf_refresh_token" not in spa.cookie_names()


def test_register_sign_in_without_password_delete_and_be_refused(
    spa,  # noqa: F811
    authenticator,
    new_user,
    live,
):
    email = new_user()
    spa.login(email)
    page = spa.page
    add_passkey(spa, "Virtual authenticator")
    [credential] = authenticator()
    # A discoverable credential of this site's RP id, for this account.
    assert credential["isResidentCredential"] is True
    assert credential["rpId"] == live.rp_id

    log_out(spa)
    page.click("#passkey-login")
    spa.expect_view("profile")
    spa.expect_no_error()
    expect(page.locator("#profile-email")).to_have_text(email)
    assert "csrf_refresh_token" in spa.cookie_names()
    # The session lives on in the refresh cookie (API and SPA are same-site).
    spa.reload()
    spa.expect_view("profile")
    expect(page.locator("#passkeys li")).to_have_count(1)

    page.click("#passkeys .passkey-delete")
    expect(page.locator("#passkeys li")).to_have_count(0)
    spa.expect_no_error()
    log_out(spa)
    # The browser still holds the passkey; the server no longer takes it.
    page.click("#passkey-login")
    expect(page.locator("#error")).to_be_visible()
    expect(page.locator("#error")).to_contain_text("not registered")
    spa.expect_view("login")


def test_a_passkey_as_the_second_factor(
    spa,  # noqa: F811
    authenticator,
    new_mfa_user,
):
    user = new_mfa_user()
    page = spa.page
    # Password and code: the session has a fresh second factor, so it may add a
    # passkey (step-up).
    page.fill("#login-email", user.email)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#mfa-form")).to_be_visible()
    expect(page.locator("#mfa-passkey")).to_be_hidden()
    page.fill("#mfa-code", user.next_code())
    page.click("#mfa-submit")
    spa.expect_view("profile")
    add_passkey(spa, "Second factor")

    log_out(spa)
    page.fill("#login-email", user.email)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#mfa-form")).to_be_visible()
    # The account has a passkey now: the login offers it.
    page.click("#mfa-passkey")
    spa.expect_view("profile")
    spa.expect_no_error()
    expect(page.locator("#profile-email")).to_have_text(user.email)
    assert "csrf_refresh_token" in spa.cookie_names()
