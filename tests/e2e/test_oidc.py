"""Sign-in with a real OpenID provider (oidc-provider): the SPA in Chromium, an app.

The provider is on 127.0.0.1, the API and the SPA on localhost: the callback is a
cross-site navigation, as with any real provider.
"""

import base64
import hashlib
import secrets

import httpx
import pytest

from tests.e2e.oidc_provider import app_sign_in, new_login, oidc_live  # noqa: F401

pytest.importorskip("playwright")


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_spa_signs_in_with_the_provider_refreshes_and_signs_out(oidc_live, context):  # noqa: F811
    from playwright.sync_api import expect

    login = new_login()
    page = context.new_page()
    page.goto(oidc_live.spa + "/")
    expect(page.locator("body")).to_have_attribute("data-state", "login")
    page.get_by_role("button", name="Sign in with Test provider").click()
    # The provider's own pages, on its own site.
    page.wait_for_url(f"{oidc_live.provider.url}/**")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{oidc_live.spa}/**")
    expect(page.locator("#status")).to_have_text(f"Logged in as {login}@example.com")
    assert "code=" not in page.url
    expect(page.locator("#profile-verified")).to_have_text("yes")
    # The state cookie is gone; the refresh cookie is the API's, HttpOnly.
    oauth_path = f"{oidc_live.api}/api/v1/auth/oauth/test/callback"
    cookies = {cookie["name"]: cookie for cookie in context.cookies(oauth_path)}
    assert "oauth_state" not in cookies
    assert cookies["refresh_token"]["httpOnly"] is True
    page.reload()
    expect(page.locator("#status")).to_have_text(f"Logged in as {login}@example.com")
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.locator("#status")).to_have_text("You are logged out.")
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-state", "login")


def exchange(live, code, verifier):
    answer = httpx.post(
        f"{live.api}/api/v1/auth/oauth/token",
        json={"code": code, "codeVerifier": verifier},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def test_app_signs_in_with_its_own_pkce(oidc_live):  # noqa: F811
    login = new_login()
    verifier, challenge = pkce_pair()
    code = app_sign_in(oidc_live, login=login, challenge=challenge)
    data = exchange(oidc_live, code, verifier)
    assert data["email"] == f"{login}@example.com"
    assert data["refreshToken"]
    me = httpx.get(
        f"{oidc_live.api}/api/v1/users/me",
        headers={"Authorization": f"Bearer {data['accessToken']}"},
        timeout=30,
    )
    assert me.json()["data"]["user"]["email"] == f"{login}@example.com"
    # Once only.
    again = httpx.post(
        f"{oidc_live.api}/api/v1/auth/oauth/token",
        json={"code": code, "codeVerifier": verifier},
        timeout=30,
    )
    assert again.status_code == 401
    assert again.json()["code"] == "login_code_invalid"


def test_sign_in_goes_on_after_the_provider_rotates_its_keys(oidc_live):  # noqa: F811
    login = new_login()
    verifier, challenge = pkce_pair()
    first = exchange(
        oidc_live, app_sign_in(oidc_live, login=login, challenge=challenge), verifier
    )
    oidc_live.provider.restart("key-rotated")
    verifier, challenge = pkce_pair()
    second = exchange(
        oidc_live, app_sign_in(oidc_live, login=login, challenge=challenge), verifier
    )
    assert second["id"] == first["id"]
