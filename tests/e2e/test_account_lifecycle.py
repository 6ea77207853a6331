"""Change email and delete the account in the example SPA, in headless Chromium, with
the mails read from a real SMTP server (tests/mailserver.py's sink)."""

import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass

import httpx
import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, SPA_DIR
from tests.e2e.test_spa import Spa
from tests.mailserver import Sink
from tests.servers import free_port, run_gunicorn, static_site
from tests.urls import LOGIN, REGISTER

MAIL_WAIT_SECONDS = 20
LINK_PAGES = ("/confirm-email-change", "/revert-email-change")


@dataclass(frozen=True)
class MailedLive:
    api: str
    spa: str
    sink: Sink

    def mail_link(self, recipient, prefix):
        """The link starting with `prefix` of the newest mail to `recipient`."""
        deadline = time.monotonic() + MAIL_WAIT_SECONDS
        while time.monotonic() < deadline:
            with self.sink.lock:
                mails = [m for m in self.sink.received if recipient in m.rcpt_tos]
            for mail in reversed(mails):
                if mail.links(prefix):
                    return mail.link(prefix)
            time.sleep(0.1)
        raise AssertionError(f"no mail with {prefix} to {recipient}")

    def subjects_to(self, recipient):
        with self.sink.lock:
            return [m.subject for m in self.sink.received if recipient in m.rcpt_tos]


@pytest.fixture(scope="module")
def mailed_live(tmp_path_factory):
    """The SPA and the API (FRONTEND_URL: the SPA), mailing to a local SMTP sink."""
    workdir = tmp_path_factory.mktemp("e2e-lifecycle")
    sink = Sink()
    port = free_port()
    index = (SPA_DIR / "index.html").read_text()
    # The mailed links open the SPA's page at these paths.
    overrides = {path: index for path in LINK_PAGES}
    with ExitStack() as stack:
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        stack.callback(controller.stop)
        spa = stack.enter_context(static_site(SPA_DIR, overrides))
        env = {
            "APP_ENV": "development",
            "CORS_ORIGINS": spa,
            "COOKIE_SECURE": "false",
            "FRONTEND_URL": spa,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": port,
            "MAIL_POLL_INTERVAL": 0.2,
            "MAIL_REQUEST_DELAY_MS": 0,
        }
        api = stack.enter_context(run_gunicorn(workdir, workers=1, env=env)).url
        overrides["/config.js"] = f'export const API_BASE = "{api}";\n'
        yield MailedLive(api=api, spa=spa, sink=sink)


@pytest.fixture
def spa(context, mailed_live):
    return Spa(context.new_page(), mailed_live).open()


def register(live, name="Ada Lovelace"):
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    response = httpx.post(
        f"{live.api}{REGISTER}",
        json={"name": name, "email": email, "password": PASSWORD},
        headers={"X-Auth-Mode": "bearer"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return email


def api_login(live, email):
    return httpx.post(
        f"{live.api}{LOGIN}",
        json={"email": email, "password": PASSWORD},
        headers={"X-Auth-Mode": "bearer"},
        timeout=10,
    )


def test_change_email_confirm_and_revert_in_the_browser(spa, mailed_live):
    old = register(mailed_live)
    new = f"new-{uuid.uuid4().hex[:8]}@example.com"
    spa.login(old)
    page = spa.page
    page.fill("#email-new", new)
    page.fill("#email-password", PASSWORD)
    page.click("#email-submit")
    expect(page.locator("#status")).to_contain_text("confirmation link")
    spa.expect_no_error()
    expect(page.locator("#profile-email")).to_have_text(old)

    link = mailed_live.mail_link(new, f"{mailed_live.spa}/confirm-email-change?token=")
    page.goto(link)
    spa.expect_view("profile")
    spa.expect_no_error()
    expect(page.locator("#profile-email")).to_have_text(new)
    expect(page.locator("#profile-verified")).to_have_text("yes")
    expect(page.locator("#status")).to_contain_text(f"now {new}")
    # The token left the address bar.
    assert "token" not in page.url
    assert "A change of your email address was requested" in mailed_live.subjects_to(
        old
    )
    assert api_login(mailed_live, new).status_code == 200

    revert = mailed_live.mail_link(old, f"{mailed_live.spa}/revert-email-change?token=")
    page.goto(revert)
    spa.expect_view("login")
    expect(page.locator("#status")).to_contain_text("old email address")
    spa.login(old)
    expect(page.locator("#profile-email")).to_have_text(old)
    assert api_login(mailed_live, new).status_code == 401


def test_delete_account_in_the_browser(spa, mailed_live):
    email = register(mailed_live, name="Bea Deleted")
    spa.login(email)
    page = spa.page
    page.fill("#delete-password", "not the password")
    page.check("#delete-confirm")
    page.click("#delete-submit")
    expect(page.locator("#error")).to_contain_text("incorrect")
    spa.expect_view("profile")

    page.fill("#delete-password", PASSWORD)
    page.check("#delete-confirm")
    page.click("#delete-submit")
    spa.expect_view("login")
    expect(page.locator("#status")).to_have_text("Your account was deleted. Goodbye.")
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while "Your account was deleted" not in mailed_live.subjects_to(email):
        assert time.monotonic() < deadline, mailed_live.subjects_to(email)
        time.sleep(0.1)
    # The refresh cookie left behind opens nothing; the password neither.
    spa.reload()
    spa.expect_view("login")
    page.fill("#login-email", email)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#error")).to_be_visible()
    assert api_login(mailed_live, email).status_code == 401
