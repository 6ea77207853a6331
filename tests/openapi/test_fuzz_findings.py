"""Regressions for what the schema fuzzing found (see tests/openapi/test_fuzz.py)."""

import pytest

from tests.helpers import assert_error
from tests.urls import LOGOUT, ME, REFRESH


@pytest.mark.parametrize("path", [REFRESH, LOGOUT])
def test_a_malformed_body_is_refused_even_with_a_bearer_header(auth, path):
    # Found by negative_data_rejection: with the token in the header, the body was
    # never read, so `[null, null]` got a 200.
    caller = auth.register(mode="bearer")
    response = caller.client.post(
        path,
        data="[null, null]",
        content_type="application/json",
        headers=caller.refresh_headers,
    )
    assert_error(response, 400, "invalid_json")
    response = caller.client.post(
        path, json={"unexpected": 1}, headers=caller.refresh_headers
    )
    assert_error(response, 400, "validation_error")
    # The session survived the refused calls.
    response = caller.client.post(path, headers=caller.refresh_headers)
    assert response.status_code == 200


@pytest.mark.parametrize("url", ["http://[", "https://[::1", "http://]x"])
def test_profile_picture_with_a_broken_ipv6_host_is_400(auth, url):
    # urlsplit raises ValueError on these; it was a 500.
    caller = auth.register()
    response = caller.client.patch(
        ME, json={"profilePicture": url}, headers=caller.headers
    )
    body = assert_error(response, 400, "validation_error")
    assert "profilePicture" in body["details"]
