"""A downstream service outside the project (Node `jose`) verifies access tokens with
the JWKS, and refuses refresh tokens and tokens for another audience."""

import json
import shutil
import subprocess

import httpx
import jwt
import pytest

from tests.auth.keys.support import key_pair
from tests.e2e.conftest import PASSWORD
from tests.helpers import skip_or_fail
from tests.servers import ROOT, run_gunicorn

VERIFIER = ROOT / "examples" / "jwks-verifier"
ISSUER = "https://auth.example.test"
AUDIENCE = "orders-api"


@pytest.fixture(scope="module")
def signed_server(tmp_path_factory):
    if shutil.which("node") is None or not (VERIFIER / "node_modules").is_dir():
        skip_or_fail("node and examples/jwks-verifier/node_modules: run `make e2e`")
    env = {
        "JWT_ALGORITHM": "ES256",
        "JWT_PRIVATE_KEY": key_pair("ES256")[0],
        "JWT_ISSUER": ISSUER,
        "JWT_AUDIENCE": f"{AUDIENCE},billing-api",
    }
    workdir = tmp_path_factory.mktemp("jwks-verifier")
    with run_gunicorn(workdir, workers=1, env=env) as server:
        yield server.url


def verify(base_url, token, audience=AUDIENCE):
    result = subprocess.run(
        ["node", "verify.mjs", base_url, ISSUER, audience, token],
        cwd=VERIFIER,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result.returncode, json.loads(result.stdout)


def bearer_tokens(base_url):
    response = httpx.post(
        f"{base_url}/api/v1/auth/register",
        json={"name": "Ada", "email": "downstream@example.com", "password": PASSWORD},
        headers={"X-Auth-Mode": "bearer"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]


def test_jose_accepts_an_access_token_and_refuses_the_rest(signed_server):
    tokens = bearer_tokens(signed_server)
    status, answer = verify(signed_server, tokens["accessToken"])
    assert status == 0, answer
    assert answer["header"]["typ"] == "at+jwt"
    assert answer["claims"]["iss"] == ISSUER
    assert answer["claims"]["aud"] == [AUDIENCE, "billing-api"]

    status, answer = verify(signed_server, tokens["refreshToken"])
    assert status == 1 and answer["rejected"], answer

    status, answer = verify(signed_server, tokens["accessToken"], "another-api")
    assert (status, answer) == (1, {"rejected": "ERR_JWT_CLAIM_VALIDATION_FAILED"})

    # Signed with the server's real key, but for another audience: still refused.
    header = jwt.get_unverified_header(tokens["accessToken"])
    claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
    foreign = jwt.encode(
        {**claims, "aud": "someone-else"},
        key_pair("ES256")[0],
        "ES256",
        headers=header,
    )
    status, answer = verify(signed_server, foreign)
    assert (status, answer) == (1, {"rejected": "ERR_JWT_CLAIM_VALIDATION_FAILED"})
    me = httpx.get(
        f"{signed_server}/api/v1/users/me",
        headers={"Authorization": f"Bearer {foreign}"},
        timeout=10,
    )
    assert me.status_code == 401 and me.json()["code"] == "token_invalid"
