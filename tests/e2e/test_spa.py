"""The example SPA in headless Chromium, on another origin than the API.

What a test client cannot show: cookies with their Path and SameSite, CORS with
credentials, the CSRF header read from a cookie, reloads and several tabs.
"""

import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ACCESS_TOKEN_TTL, ARTIFACTS, PASSWORD
from tests.urls import API, AUTH, LOGIN, ME, REFRESH

PHONE_AGENT = "ExamplePhone/1.0"


class Traffic:
    """The API calls a browser context made: (method, path, status, request)."""

    def __init__(self, context, api_origin):
        self.calls = []
        self.api_origin = api_origin
        context.on("response", self._record)

    def _record(self, response):
        parts = urlsplit(response.url)
        if f"{parts.scheme}://{parts.netloc}" == self.api_origin:
            request = response.request
            self.calls.append((request.method, parts.path, response.status, request))

    def clear(self):
        self.calls.clear()

    def of(self, method, path):
        return [
            (status, request)
            for m, p, status, request in self.calls
            if m == method and p == API + path
        ]


class Spa:
    """One tab of the SPA, driven as a user would."""

    def __init__(self, page, live):
        self.page = page
        self.live = live

    def open(self):
        self.page.goto(self.live.spa + "/")
        self.wait_for_any_view()
        return self

    def reload(self):
        self.page.reload()
        self.wait_for_any_view()

    def wait_for_any_view(self):
        self.page.wait_for_selector("body:is([data-state=login], [data-state=profile])")

    def expect_view(self, state):
        expect(self.page.locator("body")).to_have_attribute("data-state", state)

    def expect_no_error(self):
        expect(self.page.locator("#error")).to_be_hidden()

    def login(self, email, password=PASSWORD):
        self.expect_view("login")
        self.page.fill("#login-email", email)
        self.page.fill("#login-password", password)
        self.page.click("#login-submit")
        self.expect_view("profile")
        self.expect_no_error()

    def cookie_names(self):
        """The cookies this page's scripts can see."""
        cookies = self.page.evaluate("document.cookie")
        return {part.split("=", 1)[0].strip() for part in cookies.split(";") if part}

    def session_rows(self):
        return self.page.locator("#sessions tbody tr")


@pytest.fixture
def spa(context, live):
    return Spa(context.new_page(), live).open()


@pytest.fixture
def traffic(context, live):
    return Traffic(context, live.api)


def bearer_login(api, email):
    """A second session, as a phone would open it; returns its access token."""
    response = api.post(
        LOGIN,
        json={"email": email, "password": PASSWORD},
        headers={"X-Auth-Mode": "bearer", "User-Agent": PHONE_AGENT},
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]["accessToken"]


def profile_status(api, access_token):
    response = api.get(ME, headers={"Authorization": f"Bearer {access_token}"})
    return response.status_code, response.json().get("code")


def wait_until(page, condition, timeout=10):
    """Let the browser run (and report its events) until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        page.wait_for_timeout(50)


def set_latency(session, milliseconds):
    session.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": milliseconds,
            "downloadThroughput": -1,
            "uploadThroughput": -1,
        },
    )


def add_latency(context, page, milliseconds):
    """Delay every answer this tab gets, with Chromium's network emulation."""
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    set_latency(session, milliseconds)
    return session


def outwait_access_token():
    time.sleep(ACCESS_TOKEN_TTL + 1)


def test_register_edit_name_and_screenshot(spa, context):
    spa.expect_view("login")
    page = spa.page
    page.fill("#register-name", "Grace Hopper")
    page.fill("#register-email", "grace-e2e@example.com")
    page.fill("#register-password", PASSWORD)
    page.click("#register-submit")
    spa.expect_view("profile")
    expect(page.locator("#profile-name")).to_have_text("Grace Hopper")
    expect(page.locator("#profile-email")).to_have_text("grace-e2e@example.com")

    # User data is text, never markup: this name must not run.
    payload = '<img src=x onerror="window.__pwned = 1">'
    page.fill("#name-input", payload)
    page.click("#name-submit")
    expect(page.locator("#profile-name")).to_have_text(payload)
    assert page.evaluate("window.__pwned") is None
    page.fill("#name-input", "Rear Admiral Grace Hopper")
    page.click("#name-submit")
    expect(page.locator("#profile-name")).to_have_text("Rear Admiral Grace Hopper")
    expect(page.locator("#status")).to_have_text("Name saved.")
    spa.expect_no_error()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "profile.png"), full_page=True)


def test_login_keeps_refresh_token_out_of_reach_of_scripts(spa, context, new_user):
    email = new_user()
    spa.login(email)
    expect(spa.page.locator("#profile-email")).to_have_text(email)
    expect(spa.page.locator("#status")).to_have_text(f"Logged in as {email}")

    # The page sees the CSRF cookie (it must echo it) but not the refresh token.
    assert spa.cookie_names() == {"csrf_refresh_token"}
    jar = {cookie["name"]: cookie for cookie in context.cookies()}
    refresh = jar["refresh_token"]
    assert refresh["httpOnly"] is True
    assert refresh["path"] == AUTH
    assert refresh["sameSite"] == "Strict"
    assert jar["csrf_refresh_token"]["httpOnly"] is False
    assert refresh["value"] not in spa.page.evaluate("document.cookie")
    # Nor is any token left in web storage.
    stored = spa.page.evaluate(
        "JSON.stringify([{...localStorage}, {...sessionStorage}])"
    )
    assert stored == "[{},{}]"


def test_reload_stays_logged_in(spa, new_user, traffic):
    email = new_user()
    spa.login(email)
    traffic.clear()
    spa.reload()
    spa.expect_view("profile")
    expect(spa.page.locator("#profile-email")).to_have_text(email)
    assert [status for status, _ in traffic.of("POST", "/auth/refresh-token")] == [200]


def test_expired_access_token_is_refreshed_unnoticed(spa, new_user, traffic):
    spa.login(new_user())
    outwait_access_token()
    traffic.clear()
    page = spa.page
    page.fill("#name-input", "Ada King")
    with page.expect_response(
        lambda r: (
            r.url.endswith("/users/me")
            and r.request.method == "PATCH"
            and r.status == 200
        )
    ):
        page.click("#name-submit")
    expect(page.locator("#profile-name")).to_have_text("Ada King")
    spa.expect_view("profile")
    spa.expect_no_error()
    # The expired call, one refresh, then the same call again, successfully.
    assert [status for status, _ in traffic.of("PATCH", "/users/me")] == [401, 200]
    assert [status for status, _ in traffic.of("POST", "/auth/refresh-token")] == [200]


def test_two_tabs_refreshing_at_once_both_stay_logged_in(spa, context, new_user, live):
    spa.login(new_user())
    second = Spa(context.new_page(), live).open()
    second.expect_view("profile")
    outwait_access_token()
    traffic = Traffic(context, live.api)
    # The first tab's answers come late (real network with latency; no request
    # interception, which would answer CORS preflights itself), so its refresh is
    # still under way when the second tab refreshes with the same cookie.
    first_tab_network = add_latency(context, spa.page, milliseconds=1500)
    first_refresh = []
    spa.page.on(
        "request",
        lambda r: r.url.endswith("/auth/refresh-token") and first_refresh.append(r),
    )
    spa.page.click("#reload")
    wait_until(spa.page, lambda: first_refresh)
    second.page.click("#reload")
    wait_until(spa.page, lambda: len(traffic.of("GET", "/auth/sessions")) >= 4)

    for tab in (spa, second):
        tab.expect_view("profile")
        tab.expect_no_error()
    refreshes = traffic.of("POST", "/auth/refresh-token")
    assert [status for status, _ in refreshes] == [200, 200], traffic.calls
    # Both presented the same refresh token (the CSRF value bound to it): one
    # rotated it, the other got the grace answer instead of a logout.
    assert len({request.headers["x-csrf-token"] for _, request in refreshes}) == 1
    assert sorted(status for status, _ in traffic.of("GET", "/users/me")) == [
        200,
        200,
        401,
        401,
    ]
    # The tabs converged on one live refresh token: reloads still log in.
    set_latency(first_tab_network, 0)
    for tab in (second, spa):
        tab.reload()
        tab.expect_view("profile")


def test_logout_ends_session_and_reload_shows_login(spa, context, new_user, api):
    email = new_user()
    with spa.page.expect_response(
        lambda r: r.url.endswith("/auth/login") and r.request.method == "POST"
    ) as login:
        spa.login(email)
    access_token = login.value.json()["data"]["accessToken"]

    spa.page.click("#logout")
    spa.expect_view("login")
    expect(spa.page.locator("#status")).to_have_text("You are logged out.")
    spa.expect_no_error()
    assert spa.cookie_names() == set()
    # The session's cookies are gone; the HttpOnly device token stays, by design: it
    # lets this browser sign in while anonymous guesses at the account are limited.
    assert {cookie["name"] for cookie in context.cookies()} == {"device_token"}
    assert profile_status(api, access_token) == (401, "token_revoked")

    spa.reload()
    spa.expect_view("login")


def test_sessions_list_and_end_another(spa, new_user, api):
    email = new_user()
    phone_token = bearer_login(api, email)
    spa.login(email)
    rows = spa.session_rows()
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="this session")).to_have_count(1)
    phone = rows.filter(has_text=PHONE_AGENT)
    expect(phone).to_have_count(1)

    phone.get_by_role("button", name="End").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("this session")
    spa.expect_no_error()
    assert profile_status(api, phone_token) == (401, "token_revoked")


def test_logout_everywhere(spa, new_user, api):
    email = new_user()
    phone_token = bearer_login(api, email)
    spa.login(email)
    spa.page.click("#logout-all")
    spa.expect_view("login")
    expect(spa.page.locator("#status")).to_have_text("Logged out of 2 session(s).")
    assert profile_status(api, phone_token) == (401, "token_revoked")
    spa.reload()
    spa.expect_view("login")


OTHER_ORIGIN_ATTEMPTS = """async (api) => {
  const csrf = (document.cookie.match(/csrf_refresh_token=([^;]+)/) || [])[1] || "";
  const attempt = async (path, init) => {
    try {
      const response = await fetch(api + path, { credentials: "include", ...init });
      return { status: response.status, body: await response.text() };
    } catch (error) {
      return { error: error.name + ": " + error.message };
    }
  };
  const opaque = await fetch(api + "/api/v1/users/me", {
    credentials: "include", mode: "no-cors",
  });
  return {
    csrfVisible: csrf !== "",
    me: await attempt("/api/v1/users/me", {}),
    refresh: await attempt("/api/v1/auth/refresh-token", {
      method: "POST", headers: { "X-CSRF-TOKEN": csrf },
    }),
    simpleRefresh: await attempt("/api/v1/auth/refresh-token", { method: "POST" }),
    opaque: { type: opaque.type, status: opaque.status, body: await opaque.text() },
  };
}"""


def test_other_origin_cannot_read_the_users_data(spa, context, new_user, live, api):
    email = new_user()
    spa.login(email)
    other = context.new_page()
    other.goto(live.other + "/")

    result = other.evaluate(OTHER_ORIGIN_ATTEMPTS, live.api)

    # Cookies ignore ports: the other site on this host sees the CSRF cookie ...
    assert result["csrfVisible"] is True
    # ... but CORS lets it read nothing, and the preflight stops the refresh call.
    for name in ("me", "refresh", "simpleRefresh"):
        assert result[name] == {"error": "TypeError: Failed to fetch"}, result
    assert result["opaque"] == {"type": "opaque", "status": 0, "body": ""}
    assert email not in str(result)

    # The server lists no other origin, for a plain request or a preflight.
    response = api.get(ME, headers={"Origin": live.other})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = api.options(
        REFRESH,
        headers={
            "Origin": live.other,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-csrf-token",
        },
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers

    # The user's session is untouched: a reload of the SPA still logs in.
    spa.reload()
    spa.expect_view("profile")
    expect(spa.page.locator("#profile-email")).to_have_text(email)
