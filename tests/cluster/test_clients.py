"""The example clients through nginx over https: the SPA in headless Chromium (the
test CA trusted by its SPKI, so HSTS applies), the mobile client, mail."""

import os
import re
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest

from tests.cluster.clients import register
from tests.cluster.conftest import (
    ACCESS_TOKEN_TTL,
    ORIGIN,
    PASSWORD,
    SITE,
    SITE_ADDRESS,
)
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.helpers import skip_or_fail
from tests.servers import ROOT
from tests.urls import API, PASSWORD_RESET, REFRESH


@pytest.fixture(scope="module")
def browser(cluster):
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"Chromium not found at {CHROMIUM}: run `make cluster`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                f"--host-resolver-rules=MAP {SITE} {SITE_ADDRESS}",
                # Trusts the site's certificate key, and only it: a valid certificate
                # to Chromium, so HSTS is applied (not under ignore-certificate-errors).
                f"--ignore-certificate-errors-spki-list={cluster.spki}",
            ],
            timeout=60_000,
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    from playwright.sync_api import expect

    context = browser.new_context()
    context.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    yield context.new_page()
    context.close()


def test_spa_signs_in_refreshes_and_signs_out_over_https(cluster, page):
    from playwright.sync_api import expect

    with cluster.client() as client:
        email, _ = register(client)
    api_calls = []
    page.on(
        "response",
        lambda r: api_calls.append((r.request.method, urlsplit(r.url).path, r.status)),
    )
    page.goto(f"{ORIGIN}/")
    body = page.locator("body")
    expect(body).to_have_attribute("data-state", "login")
    page.fill("#login-email", email)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(body).to_have_attribute("data-state", "profile")
    expect(page.locator("#profile-email")).to_have_text(email)

    cookies = {c["name"]: c for c in page.context.cookies()}
    refresh_cookie = cookies["refresh_token"]
    assert refresh_cookie["secure"] and refresh_cookie["httpOnly"]
    assert refresh_cookie["sameSite"] == "Strict"
    assert cookies["csrf_refresh_token"]["secure"]
    visible = {
        part.split("=")[0].strip()
        for part in page.evaluate("document.cookie").split(";")
    }
    assert "refresh_token" not in visible

    # The access token expires; a reload refreshes it through the cookie unnoticed.
    time.sleep(ACCESS_TOKEN_TTL + 1)
    page.reload()
    expect(body).to_have_attribute("data-state", "profile")
    assert ("POST", API + REFRESH.removeprefix(API), 200) in api_calls
    assert not [call for call in api_calls if call[2] >= 500]

    page.click("#logout")
    expect(body).to_have_attribute("data-state", "login")
    assert "refresh_token" not in {c["name"] for c in page.context.cookies()}

    # HSTS: having seen the site over https, Chromium never asks plain http again.
    before = cluster.access_log.read_text().count(" 80 ")
    page.goto(f"http://{SITE}/")
    assert page.url == f"{ORIGIN}/"
    assert cluster.access_log.read_text().count(" 80 ") == before


def test_mobile_client_signs_in_and_out_through_nginx(cluster, tmp_path):
    with cluster.client() as client:
        email, _ = register(client)
    env = {
        **os.environ,
        "AUTH_BASE_URL": f"https://{SITE_ADDRESS}",
        "AUTH_PASSWORD": PASSWORD,
        "AUTH_TOKEN_FILE": str(tmp_path / "tokens.json"),
        # The platform's trust store, here the test CA.
        "SSL_CERT_FILE": str(cluster.ca),
    }

    def mobile(*args):
        return subprocess.run(
            [sys.executable, str(ROOT / "examples" / "mobile_client.py"), *args],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    assert mobile("login", email).returncode == 0
    me = mobile("me")
    assert me.returncode == 0, me.stderr
    assert email in me.stdout
    assert mobile("logout").returncode == 0
    assert mobile("me").returncode != 0


def test_reset_mail_goes_out_from_the_mail_sender_process(cluster):
    with cluster.client() as client:
        email, _ = register(client)
        response = client.post(PASSWORD_RESET, json={"email": email})
        assert response.status_code in (200, 202), response.text
    link = re.compile(rf"{re.escape(ORIGIN)}/reset-password\?token=\S+")
    deadline = time.monotonic() + 30
    found = []
    while not found and time.monotonic() < deadline:
        with cluster.mail.lock:
            mails = [m for m in cluster.mail.received if email in m.rcpt_tos]
        found = [
            m
            for m in mails
            if link.search(m.message.get_body(("plain",)).get_content())
        ]
        time.sleep(0.2)
    assert found, f"no reset mail for {email} in 30 s"
    assert cluster.extra["mail_process"].poll() is None
