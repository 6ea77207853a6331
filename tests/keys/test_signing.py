"""RS256, ES256 and EdDSA: tokens are signed, carry a kid, and forgeries are refused."""

import hashlib
import hmac

import jwt
import pytest

from tests.helpers import assert_error
from tests.keys.support import (
    asymmetric_settings,
    b64url_json,
    key_pair,
    new_private_key,
    sign_raw,
    token_parts,
)
from tests.urls import JWKS, ME, REFRESH


@pytest.fixture
def settings(algorithm):
    return asymmetric_settings(algorithm)


@pytest.fixture
def caller(auth):
    return auth.register(mode="bearer")


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def served_kids(client):
    return [key["kid"] for key in client.get(JWKS).json["keys"]]


def test_tokens_are_signed_with_the_configured_key(app, client, caller, algorithm):
    access_header, _ = token_parts(caller.access_token)
    refresh_header, _ = token_parts(caller.refresh_token)
    assert access_header["alg"] == algorithm
    assert access_header["typ"] == "at+jwt"
    assert access_header["kid"] == served_kids(client)[0]
    # The refresh token is the server's own: another algorithm, an unpublished key.
    assert refresh_header["alg"] == "HS256" and refresh_header["typ"] == "rt+jwt"
    assert refresh_header["kid"] not in served_kids(client)
    public = key_pair(algorithm)[1]
    claims = jwt.decode(
        caller.access_token, public, algorithms=[algorithm], audience="auth-server"
    )
    assert claims["sub"] == caller.user["id"]


def test_login_me_and_refresh_work(client, auth, caller, algorithm):
    again = auth.login(caller.extra["email"])
    me = client.get(ME, headers=again.headers)
    assert me.status_code == 200
    assert me.json["data"]["user"]["id"] == caller.user["id"]
    refreshed = client.post(REFRESH, headers=bearer(again.refresh_token))
    assert refreshed.status_code == 200, refreshed.json
    new_access = refreshed.json["data"]["accessToken"]
    assert token_parts(new_access)[0]["alg"] == algorithm
    assert client.get(ME, headers=bearer(new_access)).status_code == 200


def test_alg_none_is_refused(client, caller):
    header, payload = token_parts(caller.access_token)
    forged = f"{b64url_json({**header, 'alg': 'none'})}.{b64url_json(payload)}."
    response = client.get(ME, headers=bearer(forged))
    assert_error(response, 401, "token_invalid")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_hs256_signed_with_the_public_key_is_refused(client, caller, algorithm):
    header, payload = token_parts(caller.access_token)
    signing_input = f"{b64url_json({**header, 'alg': 'HS256'})}.{b64url_json(payload)}"
    public = key_pair(algorithm)[1].encode()
    signature = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{jwt.utils.base64url_encode(signature).decode()}"
    assert_error(client.get(ME, headers=bearer(forged)), 401, "token_invalid")


def test_forged_refresh_token_is_refused(client, caller):
    header, payload = token_parts(caller.refresh_token)
    forged = f"{b64url_json({**header, 'alg': 'none'})}.{b64url_json(payload)}."
    assert_error(client.post(REFRESH, headers=bearer(forged)), 401, "token_invalid")


def test_other_key_under_our_kid_is_refused(client, caller, algorithm):
    header, payload = token_parts(caller.access_token)
    forged = jwt.encode(
        payload, new_private_key(algorithm), algorithm, headers={"kid": header["kid"]}
    )
    assert_error(client.get(ME, headers=bearer(forged)), 401, "token_invalid")


@pytest.mark.parametrize("kid", ["unknown-kid", ["a", "list"], {"a": 1}, 7, ""])
def test_unknown_or_odd_kid_is_401_not_500(client, caller, algorithm, kid):
    _, payload = token_parts(caller.access_token)
    header = {"alg": algorithm, "typ": "JWT", "kid": kid}
    forged = sign_raw(header, payload, new_private_key(algorithm), algorithm)
    assert_error(client.get(ME, headers=bearer(forged)), 401, "token_invalid")


def test_another_asymmetric_algorithm_is_refused(client, caller, algorithm):
    other = "ES256" if algorithm != "ES256" else "RS256"
    header, payload = token_parts(caller.access_token)
    forged = jwt.encode(
        payload, new_private_key(other), other, headers={"kid": header["kid"]}
    )
    assert_error(client.get(ME, headers=bearer(forged)), 401, "token_invalid")


def test_our_key_under_an_unknown_kid_is_refused(client, caller, algorithm):
    header, payload = token_parts(caller.access_token)
    private = key_pair(algorithm)[0].encode()
    forged = sign_raw(
        {**header, "kid": "not-" + header["kid"]}, payload, private, algorithm
    )
    assert_error(client.get(ME, headers=bearer(forged)), 401, "token_invalid")
