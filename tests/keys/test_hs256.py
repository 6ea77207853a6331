"""HS256 (the default): a kid that never reveals the secret, rotation, no JWKS."""

import jwt

from app.auth.keys import hs_kid
from tests.helpers import assert_error
from tests.keys.support import b64url_json, token_parts
from tests.urls import JWKS, LOGIN, ME

SECRET_A = "a" * 20 + "-first-secret-of-forty-chars"
SECRET_B = "b" * 20 + "-second-secret-of-forty-chars"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_kid_is_derived_but_does_not_reveal_the_secret(app, auth):
    caller = auth.register()
    header, _ = token_parts(caller.access_token)
    secret = app.config["JWT_SECRET_KEY"]
    assert header["alg"] == "HS256"
    assert header["kid"] == hs_kid(secret)
    assert header["kid"].startswith("hs256-")
    assert secret not in header["kid"]
    assert hs_kid(SECRET_A) != hs_kid(SECRET_B)


def test_jwks_is_404_envelope_with_hs256(client):
    response = client.get(JWKS)
    assert_error(response, 404, "not_found")
    assert response.headers["Cache-Control"] == "no-store"


def test_alg_none_and_other_algorithms_are_refused(app, client, auth):
    caller = auth.register()
    header, payload = token_parts(caller.access_token)
    unsigned = f"{b64url_json({**header, 'alg': 'none'})}.{b64url_json(payload)}."
    assert_error(client.get(ME, headers=bearer(unsigned)), 401, "token_invalid")
    secret = app.config["JWT_SECRET_KEY"]
    hs512 = jwt.encode(payload, secret, "HS512", headers={"kid": header["kid"]})
    assert_error(client.get(ME, headers=bearer(hs512)), 401, "token_invalid")


def test_token_needs_its_kid_and_typ(app, client, auth):
    """Correctly signed with the current secret, but without kid or typ: refused."""
    caller = auth.register()
    header, payload = token_parts(caller.access_token)
    secret = app.config["JWT_SECRET_KEY"]
    assert client.get(ME, headers=bearer(caller.access_token)).status_code == 200
    no_kid = jwt.encode(payload, secret, "HS256", headers={"typ": "at+jwt"})
    assert "kid" not in jwt.get_unverified_header(no_kid)
    assert_error(client.get(ME, headers=bearer(no_kid)), 401, "token_invalid")
    plain_jwt = jwt.encode(payload, secret, "HS256", headers={"kid": header["kid"]})
    assert jwt.get_unverified_header(plain_jwt)["typ"] == "JWT"
    assert_error(client.get(ME, headers=bearer(plain_jwt)), 401, "token_invalid")
    other = jwt.encode(payload, SECRET_B, "HS256", headers=header)
    assert_error(client.get(ME, headers=bearer(other)), 401, "token_invalid")


def test_previous_secret_verifies_until_removed(app, auth, make_app):
    first = make_app(JWT_SECRET_KEY=SECRET_A)
    caller = auth.register()
    token = (
        first.test_client()
        .post(
            LOGIN,
            json={"email": caller.extra["email"], "password": caller.extra["password"]},
            headers={"X-Auth-Mode": "bearer"},
        )
        .json["data"]["accessToken"]
    )
    rotated = make_app(JWT_SECRET_KEY=SECRET_B, JWT_PREVIOUS_SECRET_KEYS=[SECRET_A])
    assert rotated.test_client().get(ME, headers=bearer(token)).status_code == 200
    removed = make_app(JWT_SECRET_KEY=SECRET_B)
    response = removed.test_client().get(ME, headers=bearer(token))
    assert_error(response, 401, "token_invalid")
