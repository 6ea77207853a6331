"""Two-factor sign-in in the example SPA, in headless Chromium; codes from pyotp."""

import time

import pyotp
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD
from tests.e2e.test_spa import spa  # noqa: F401  (the fixture)


def test_enrol_in_the_browser_then_sign_in_with_a_code(spa, new_user):  # noqa: F811
    email = new_user()
    spa.login(email)
    page = spa.page
    expect(page.locator("#profile-mfa")).to_have_text("off")

    page.fill("#mfa-setup-password", PASSWORD)
    page.click("#mfa-setup-submit")
    expect(page.locator("#mfa-enrol")).to_be_visible()
    secret = page.locator("#mfa-secret").text_content()
    assert len(secret) == 32
    # The QR code is shown as an image of the server's SVG.
    src = page.locator("#mfa-qr").get_attribute("src")
    assert src.startswith("data:image/svg+xml;base64,")
    page.fill("#mfa-confirm-code", pyotp.TOTP(secret).now())
    page.click("#mfa-confirm-submit")
    expect(page.locator("#mfa-recovery-codes li")).to_have_count(10)
    expect(page.locator("#profile-mfa")).to_have_text("on")
    spa.expect_no_error()

    page.click("#logout")
    spa.expect_view("login")
    page.fill("#login-email", email)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#mfa-form")).to_be_visible()
    # Not logged in yet: no session cookie came with the password step.
    assert "csrf_refresh_token" not in spa.cookie_names()
    # The code of the next step: the current one was spent by the enrolment.
    page.fill("#mfa-code", pyotp.TOTP(secret).at(time.time() + 30))
    page.click("#mfa-submit")
    spa.expect_view("profile")
    spa.expect_no_error()
    expect(page.locator("#profile-email")).to_have_text(email)
    assert "csrf_refresh_token" in spa.cookie_names()

    # A reload keeps the session (the refresh cookie of the verify answer).
    spa.reload()
    spa.expect_view("profile")


def test_a_wrong_code_keeps_the_second_step_open(spa, new_mfa_user):  # noqa: F811
    user = new_mfa_user()
    page = spa.page
    page.fill("#login-email", user.email)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#mfa-form")).to_be_visible()
    page.fill("#mfa-code", "aaaa-bbbb-cccc-dddd")
    page.click("#mfa-submit")
    expect(page.locator("#error")).to_be_visible()
    spa.expect_view("login")
    page.fill("#mfa-code", user.next_code())
    page.click("#mfa-submit")
    spa.expect_view("profile")
