"""Helpers for the two-factor tests: codes from pyotp, an implementation of its own."""

import pyotp

from app import clock
from tests.conftest import PASSWORD
from tests.helpers import assert_ok
from tests.urls import LOGIN, MFA_CONFIRM, MFA_SETUP, MFA_VERIFY


def code_at(secret, offset=0):
    """The TOTP code of `secret` at the app's clock plus `offset` seconds."""
    return pyotp.TOTP(secret).at(clock.now().timestamp() + offset)


def wrong_code(secret):
    """A code no step of the drift window accepts."""
    valid = {code_at(secret, offset) for offset in (-30, 0, 30)}
    number = 0
    while f"{number:06d}" in valid:
        number += 1
    return f"{number:06d}"


def enrol(caller, move_clock=None):
    """Turn MFA on for a logged-in caller; (secret, recovery codes)."""
    setup = assert_ok(
        caller.client.post(
            MFA_SETUP, json={"password": PASSWORD}, headers=caller.headers
        )
    )
    confirmed = assert_ok(
        caller.client.post(
            MFA_CONFIRM,
            json={"code": code_at(setup["secret"])},
            headers=caller.headers,
        )
    )
    if move_clock is not None:
        # The next code of the test is of a later time step.
        move_clock(seconds=30)
    return setup["secret"], confirmed["recoveryCodes"]


def mode_headers(mode):
    return {"X-Auth-Mode": "bearer"} if mode == "bearer" else {}


def password_step(client, email, *, mode="bearer"):
    """The login's first step; its answer's data (mfaRequired, mfaToken...)."""
    response = client.post(
        LOGIN, json={"email": email, "password": PASSWORD}, headers=mode_headers(mode)
    )
    return assert_ok(response), response


def verify(client, mfa_token, *, mode="bearer", **factor):
    return client.post(
        MFA_VERIFY, json={"mfaToken": mfa_token, **factor}, headers=mode_headers(mode)
    )
