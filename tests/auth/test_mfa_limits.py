"""Guessing second factors is bounded per account, across mfaTokens: 429."""

import pytest

from tests.auth.mfa import code_at, enrol, password_step, verify, wrong_code
from tests.helpers import assert_error, assert_ok
from tests.urls import MFA_STEP_UP

pytestmark = pytest.mark.ratelimit


def test_wrong_codes_of_one_account_are_limited_across_mfa_tokens(auth, move_clock):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    for _ in range(5):
        # A new login each time: the per-token bound alone would never bite.
        data, _ = password_step(caller.client, caller.extra["email"])
        response = verify(caller.client, data["mfaToken"], code=wrong_code(secret))
        assert_error(response, 401, "invalid_mfa_code")
    data, _ = password_step(caller.client, caller.extra["email"])
    response = verify(caller.client, data["mfaToken"], code=code_at(secret))
    assert_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) >= 1
    # The same counter covers step-up.
    response = caller.client.post(
        MFA_STEP_UP, json={"code": code_at(secret)}, headers=caller.headers
    )
    assert_error(response, 429, "rate_limited")


def test_right_codes_do_not_count(auth, move_clock):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    for _ in range(6):
        data, _ = password_step(caller.client, caller.extra["email"])
        assert_ok(verify(caller.client, data["mfaToken"], code=code_at(secret)))
        move_clock(seconds=30)
