"""The Swagger UI at /docs in headless Chromium: offline, under its own CSP, usable.

It loads nothing but the server's own files, breaks no CSP rule, and "Try it out"
logs in, calls /users/me and refreshes through the cookie with the CSRF header.
"""

import json
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import PASSWORD


def origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def open_operation(page, operation_id):
    """Expand an operation and switch it to "Try it out"; its block."""
    block = page.locator(f"[id$='-{operation_id}']").first
    block.locator(".opblock-summary").click()
    block.get_by_role("button", name="Try it out").click()
    return block


def execute(block):
    """Run an opened operation from the page; the status and body it shows."""
    block.get_by_role("button", name="Execute").click()
    status = block.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    text = block.locator(".live-responses-table tbody .response-col_description pre")
    return status.inner_text().strip(), text.first.inner_text()


def try_it_out(page, operation_id, body=None):
    """Expand an operation, run it from the page; the status it shows."""
    block = open_operation(page, operation_id)
    if body is not None:
        block.locator("textarea.body-param__text").fill(json.dumps(body))
    return execute(block)


@pytest.fixture
def docs(context, live):
    page = context.new_page()
    seen = {"urls": [], "console": []}
    page.on("request", lambda request: seen["urls"].append(request.url))
    page.on(
        "console",
        lambda message: (
            seen["console"].append(message.text) if message.type == "error" else None
        ),
    )
    page.goto(f"{live.api}/docs")
    page.wait_for_selector(".opblock")
    return page, seen


def test_docs_page_works_offline_under_its_csp(docs, live):
    page, seen = docs
    assert page.locator(".opblock").count() >= 19
    assert {origin(url) for url in seen["urls"]} == {live.api}
    assert not [text for text in seen["console"] if "Content Security Policy" in text]


def test_docs_page_logs_in_and_calls_users_me(docs, new_user):
    page, seen = docs
    email = new_user()
    # Opened first, so it runs right after login: the e2e access token lives 3 s.
    me = open_operation(page, "getMe")
    status, _ = try_it_out(page, "login", {"email": email, "password": PASSWORD})
    assert status == "200"
    # The page authorized itself with the new access token (docs.js).
    status, body = execute(me)
    assert status == "200"
    assert email in body
    # Cookie session: the browser sends the cookie, the page the CSRF header.
    status, body = try_it_out(page, "refreshToken")
    assert status == "200", body
    assert not [text for text in seen["console"] if "Content Security Policy" in text]
