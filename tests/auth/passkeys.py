"""Helpers for the passkey tests: the ceremonies through the HTTP API."""

from tests.auth.authenticator import Authenticator
from tests.auth.mfa import mode_headers
from tests.helpers import assert_ok
from tests.urls import (
    PASSKEY_LOGIN_OPTIONS,
    PASSKEY_LOGIN_VERIFY,
    PASSKEY_REGISTER_OPTIONS,
    PASSKEY_REGISTER_VERIFY,
)


def register_options(caller):
    return assert_ok(
        caller.client.post(PASSKEY_REGISTER_OPTIONS, headers=caller.headers)
    )


def register_verify(caller, credential, name="Work laptop"):
    return caller.client.post(
        PASSKEY_REGISTER_VERIFY,
        json={"credential": credential, "name": name},
        headers=caller.headers,
    )


def add_passkey(caller, authenticator=None, name="Work laptop"):
    """A new passkey of the caller; (authenticator, the passkey's JSON)."""
    authenticator = authenticator or Authenticator()
    credential = authenticator.create(register_options(caller))
    data = assert_ok(register_verify(caller, credential, name), 201)
    return authenticator, data["passkey"]


def login_options(client):
    return assert_ok(client.post(PASSKEY_LOGIN_OPTIONS))


def login_verify(client, credential, *, mode="bearer"):
    return client.post(
        PASSKEY_LOGIN_VERIFY,
        json={"credential": credential},
        headers=mode_headers(mode),
    )


def sign_in(client, authenticator, *, mode="bearer", **answer):
    """Options, then the authenticator's signed answer: the verify response."""
    return login_verify(
        client, authenticator.get(login_options(client), **answer), mode=mode
    )
