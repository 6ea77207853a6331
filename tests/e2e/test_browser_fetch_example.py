"""examples/browser-fetch.js in headless Chromium, same origin as the API.

The snippet runs in the /docs page (its CSP allows fetch to 'self'): login, /users/me,
a 401 that refreshes through the cookie and the CSRF header and retries, logout.
"""

from tests.e2e.conftest import PASSWORD
from tests.servers import ROOT

SNIPPET = ROOT / "examples" / "browser-fetch.js"
DRIVER = """
    const user = await login(EMAIL, PASSWORD);
    const first = await me();
    accessToken = "expired-or-garbage";  // the next call gets a 401
    const second = await me();
    const refreshedTo = accessToken;
    await logout();
    const afterLogout = await refresh();
    return {
      loginEmail: user.email,
      first: first.email,
      second: second.email,
      refreshed: refreshedTo !== "expired-or-garbage",
      afterLogout,
      cookies: document.cookie,
    };
"""


def snippet_as_function(api_base, email):
    """The module's code (exports dropped) plus the driver, as one async function."""
    code = SNIPPET.read_text()
    code = code.replace('"http://127.0.0.1:8000/api/v1"', f'"{api_base}/api/v1"')
    code = code.replace("export async function", "async function")
    code = code.replace("export const", "const")
    assert "export " not in code
    driver = DRIVER.replace("EMAIL", repr(email)).replace("PASSWORD", repr(PASSWORD))
    return f"async () => {{\n{code}\n{driver}\n}}"


def test_browser_fetch_snippet_flow(context, live, new_user):
    email = new_user()
    page = context.new_page()
    page.goto(f"{live.api}/docs")
    result = page.evaluate(snippet_as_function(live.api, email))
    assert result["loginEmail"] == email
    assert result["first"] == email
    assert result["second"] == email  # after a refresh and one retry
    assert result["refreshed"] is True
    assert result["afterLogout"] is False
    assert "csrf_refresh_token" not in result["cookies"]
