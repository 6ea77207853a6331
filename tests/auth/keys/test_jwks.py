"""GET /.well-known/jwks.json, checked the way another service would use it."""

import json
import urllib.request

import jwt
import pytest
from jwt import PyJWKClient

from app.auth.keys import jwk_thumbprint
from tests.auth.keys.support import asymmetric_settings, key_pair, serving, token_parts
from tests.urls import JWKS, ME

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


@pytest.fixture
def settings(algorithm):
    return {
        **asymmetric_settings(algorithm),
        "JWT_PREVIOUS_PUBLIC_KEYS": key_pair(algorithm, 1)[1],
    }


def test_jwks_lists_current_and_previous_public_keys(client, auth, algorithm):
    response = client.get(JWKS)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    keys = response.json["keys"]
    assert len(keys) == 2
    for key in keys:
        assert key["use"] == "sig"
        assert key["alg"] == algorithm
        assert key["kty"] == {"RS256": "RSA", "ES256": "EC", "EdDSA": "OKP"}[algorithm]
        assert not PRIVATE_MEMBERS & set(key)
        assert key["kid"] == jwk_thumbprint(key)
    caller = auth.register()
    assert token_parts(caller.access_token)[0]["kid"] == keys[0]["kid"]


def test_jwks_is_cacheable_for_a_short_while(client):
    response = client.get(JWKS)
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert "Pragma" not in response.headers
    assert response.headers["X-Request-ID"]


def test_other_json_answers_stay_no_store(client):
    response = client.get(ME)
    assert response.status_code == 401
    assert response.headers["Cache-Control"] == "no-store"


def register_over_http(base_url, email):
    request = urllib.request.Request(
        f"{base_url}/api/v1/auth/register",
        data=json.dumps(
            {"name": "Ada", "email": email, "password": "pass phrase 42"}
        ).encode(),
        headers={"Content-Type": "application/json", "X-Auth-Mode": "bearer"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        return json.load(answer)["data"]


@pytest.mark.live_server
def test_independent_verifier_validates_an_access_token(app, algorithm, monkeypatch):
    """PyJWT's PyJWKClient fetches the JWKS over HTTP and checks a token (RFC 9068)."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    with serving(app) as base_url:
        data = register_over_http(base_url, "jwks@example.com")
        verifier = PyJWKClient(f"{base_url}{JWKS}", cache_keys=True, timeout=10)
        access_token = data["accessToken"]
        signing_key = verifier.get_signing_key_from_jwt(access_token)
        claims = jwt.decode(
            access_token,
            signing_key.key,
            algorithms=[algorithm],
            audience="auth-server",
            issuer="auth-server",
            options={"require": ["exp", "iat", "sub", "iss", "aud", "jti"]},
        )
        with pytest.raises(jwt.PyJWKClientError):
            # Signed with a server-only key: no published key verifies it.
            verifier.get_signing_key_from_jwt(data["refreshToken"])
    assert jwt.get_unverified_header(access_token)["typ"] == "at+jwt"
    assert set(claims) == {
        *("iss", "aud", "sub", "sid", "jti", "iat", "exp", "role"),
        *("amr", "acr", "auth_time"),
    }


def test_foreign_audience_or_issuer_is_refused(app, client, auth, algorithm):
    """Correctly signed with the server's own key, but for someone else: 401."""
    caller = auth.register()
    header, payload = token_parts(caller.access_token)
    private_key = app.extensions["signing_keys"].signing_key
    for changed in (
        {"aud": "another-api"},
        {"iss": "https://elsewhere.example"},
        {"exp": None},
    ):
        claims = {k: v for k, v in {**payload, **changed}.items() if v is not None}
        forged = jwt.encode(claims, private_key, algorithm, headers=header)
        response = client.get(ME, headers={"Authorization": f"Bearer {forged}"})
        assert response.status_code == 401, changed
        assert response.get_json()["code"] == "token_invalid", changed


def test_rfc7638_example_thumbprint():
    # The example key and thumbprint of RFC 7638, section 3.1.
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPF"
        "FxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_"
        "RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvR"
        "L5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xB"
        "niIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
