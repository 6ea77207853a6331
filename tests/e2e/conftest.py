"""End-to-end fixtures: the API under gunicorn, the SPA and another site, Chromium.

These tests start real servers and a browser, so plain `make test` skips them;
`make e2e` (or naming tests/e2e on the command line) runs them. Without Chromium the
browser tests skip, except with CI=true, where they fail (`make e2e` installs it).
"""

import os
import shutil
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyotp
import pytest

from tests.helpers import run_apart, skip_or_fail
from tests.servers import ROOT, on_localhost, run_gunicorn, static_site
from tests.urls import LOGOUT, MFA_CONFIRM, MFA_SETUP, REGISTER

E2E_DIR = Path(__file__).resolve().parent
SPA_DIR = ROOT / "examples" / "spa"
ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Debian's Chromium as root in a closed network (see the README).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Short, so tests can outwait an access token; every client must refresh unnoticed.
ACCESS_TOKEN_TTL = 3
PASSWORD = "correct horse battery staple"
OTHER_SITE_PAGE = "<!doctype html><title>Another site</title><p>Not allowed.</p>"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "e2e: live gunicorn server and browser tests (make e2e)"
    )


def pytest_collection_modifyitems(config, items):
    # Under `make e2e` (E2E=1) or when tests/e2e is named on the command line.
    run_apart(
        config,
        items,
        E2E_DIR,
        variable="E2E",
        marker="e2e",
        reason="live-server and browser test: run `make e2e`",
    )


@dataclass(frozen=True)
class Live:
    api: str
    spa: str
    other: str
    # The passkeys' relying party: the host of the API's FRONTEND_URL (the SPA).
    rp_id: str = "localhost"


@pytest.fixture(scope="session")
def live(tmp_path_factory):
    """The API (CORS for the SPA's origin only), the SPA, and a site not allowed.

    All three by the name `localhost`, not 127.0.0.1: a WebAuthn RP id (and an
    OpenID Connect redirect host) cannot be an IP address. The API and the SPA
    stay same-site (ports do not count), so the SameSite refresh cookie works.
    """
    workdir = tmp_path_factory.mktemp("e2e")
    other_dir = workdir / "other-site"
    other_dir.mkdir()
    spa_overrides = {}
    with ExitStack() as stack:
        spa = on_localhost(stack.enter_context(static_site(SPA_DIR, spa_overrides)))
        other = on_localhost(
            stack.enter_context(static_site(other_dir, {"/": OTHER_SITE_PAGE}))
        )
        api_env = {
            "APP_ENV": "development",
            "CORS_ORIGINS": spa,
            # Mailed links, and the passkeys' RP id (localhost) and origin (the SPA).
            "FRONTEND_URL": spa,
            # Plain http: a Secure cookie is not what a dev server sets.
            "COOKIE_SECURE": "false",
            "COOKIE_SAMESITE": "Strict",
            "ACCESS_TOKEN_TTL": ACCESS_TOKEN_TTL,
        }
        server = stack.enter_context(run_gunicorn(workdir, workers=2, env=api_env))
        api = on_localhost(server.url)
        spa_overrides["/config.js"] = f'export const API_BASE = "{api}";\n'
        yield Live(api=api, spa=spa, other=other)


@pytest.fixture
def api(live):
    with httpx.Client(base_url=live.api, timeout=10) as client:
        yield client


@pytest.fixture
def new_user(api):
    """Register a fresh account through the API; returns its email.

    The registration's own session is ended, so the account starts with none.
    """

    def _new_user(name="Ada Lovelace"):
        email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
        response = api.post(
            REGISTER,
            json={"name": name, "email": email, "password": PASSWORD},
            headers={"X-Auth-Mode": "bearer"},
        )
        assert response.status_code == 201, response.text
        refresh_token = response.json()["data"]["refreshToken"]
        response = api.post(
            LOGOUT,
            headers={
                "X-Auth-Mode": "bearer",
                "Authorization": f"Bearer {refresh_token}",
            },
        )
        assert response.status_code == 200, response.text
        return email

    return _new_user


@dataclass
class MfaUser:
    email: str
    secret: str

    def next_code(self):
        """A code of the step after the one enrolment spent (one step of drift)."""
        return pyotp.TOTP(self.secret).at(time.time() + 30)


@pytest.fixture
def new_mfa_user(api):
    """Register an account and turn two-factor sign-in on (codes from pyotp)."""

    def _new_mfa_user(name="Ada Lovelace"):
        email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
        response = api.post(
            REGISTER,
            json={"name": name, "email": email, "password": PASSWORD},
            headers={"X-Auth-Mode": "bearer"},
        )
        assert response.status_code == 201, response.text
        bearer = {"Authorization": f"Bearer {response.json()['data']['accessToken']}"}
        setup = api.post(MFA_SETUP, json={"password": PASSWORD}, headers=bearer)
        assert setup.status_code == 200, setup.text
        secret = setup.json()["data"]["secret"]
        confirm = api.post(
            MFA_CONFIRM, json={"code": pyotp.TOTP(secret).now()}, headers=bearer
        )
        assert confirm.status_code == 200, confirm.text
        return MfaUser(email=email, secret=secret)

    return _new_mfa_user


@pytest.fixture(scope="session")
def chromium_path():
    path = shutil.which(CHROMIUM)
    if path is None:
        skip_or_fail(
            f"Chromium not found at {CHROMIUM}: `apt-get install chromium` "
            "(make e2e installs it in CI) or set CHROMIUM_PATH"
        )
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    """Headless Debian Chromium; Playwright gives it a fresh user-data-dir."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=CHROMIUM_ARGS,
            timeout=60_000,
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    """A fresh browser profile per test: its own cookie jar."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1000, "height": 900})
    context.set_default_timeout(10_000)
    expect.set_options(timeout=10_000)
    yield context
    context.close()
