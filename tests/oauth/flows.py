"""The steps of a provider sign-in as a browser or app takes them (test client)."""

import base64
import hashlib
import secrets
from urllib.parse import urlencode

from tests.oauth.conftest import APP_REDIRECT, FRONTEND, query_of
from tests.urls import OAUTH_TOKEN, oauth_authorize, oauth_callback


def authorize(client, provider="test", **params):
    query = urlencode(params)
    return client.get(oauth_authorize(provider) + (f"?{query}" if query else ""))


def callback(client, query, provider="test"):
    return client.get(f"{oauth_callback(provider)}?{urlencode(query)}")


def browser_sign_in(client, stub, *, return_to=f"{FRONTEND}/signed-in", **claims):
    """authorize, the provider's page, the callback: the callback's answer."""
    started = authorize(client, returnTo=return_to)
    assert started.status_code == 302, started.get_data(as_text=True)
    return callback(client, stub.sign_in(started.headers["Location"], **claims))


def login_code(client, stub, **claims):
    answer = browser_sign_in(client, stub, **claims)
    assert answer.status_code == 302
    query = query_of(answer.headers["Location"])
    assert "code" in query, query
    return query["code"]


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def app_sign_in(client, stub, challenge, **claims):
    started = authorize(
        client,
        mode="bearer",
        redirectUri=APP_REDIRECT,
        codeChallenge=challenge,
        codeChallengeMethod="S256",
    )
    assert started.status_code == 302, started.get_data(as_text=True)
    return callback(client, stub.sign_in(started.headers["Location"], **claims))


def exchange(client, code, **extra):
    return client.post(OAUTH_TOKEN, json={"code": code, **extra})
