"""Every bad input of a provider sign-in: a clear error, nothing created or linked."""

import time

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Identity, LoginCode, User
from tests.helpers import assert_error
from tests.oauth.conftest import APP_REDIRECT, FRONTEND, query_of
from tests.oauth.flows import authorize, browser_sign_in, callback, exchange
from tests.oauth.stub import new_key


def nothing_created(app):
    with app.app_context():
        for model in (User, Identity, LoginCode):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0


def error_of(answer, where=f"{FRONTEND}/signed-in"):
    assert answer.status_code == 302, answer.get_data(as_text=True)
    location = answer.headers["Location"]
    assert location.split("?")[0] == where, location
    return query_of(location)["error"]


def test_unknown_provider_is_404(client):
    assert_error(authorize(client, "nope"), 404, "not_found")
    assert_error(callback(client, {"state": "x"}, provider="nope"), 404, "not_found")


@pytest.mark.parametrize(
    "return_to",
    [
        "https://evil.example/",
        "//evil.example/x",
        "http://localhost:3000@evil.example/",
        "http://localhost:3001/",
        "https://localhost:3000/",
        "javascript:alert(1)",
        "/\\evil.example",
        "http://localhost:3000/ x",
    ],
)
def test_return_to_on_another_origin_is_refused(app, client, return_to):
    assert_error(authorize(client, returnTo=return_to), 400, "return_to_invalid")


def test_control_characters_in_return_to_are_refused(client):
    answer = authorize(client, returnTo="http://localhost:3000/\u0000")
    assert_error(answer, 400, "validation_error")


def test_return_to_may_be_a_path(client, provider):
    answer = browser_sign_in(client, provider, return_to="/after?x=1")
    location = answer.headers["Location"]
    assert location.startswith(f"{FRONTEND}/after?x=1&code=")


def test_unknown_query_parameters_are_400(client):
    assert_error(authorize(client, returnTo="/", evil="1"), 400, "validation_error")


def test_forged_state_redirects_to_the_frontend(app, client, provider):
    started = authorize(client, returnTo=f"{FRONTEND}/signed-in")
    query = provider.sign_in(started.headers["Location"])
    answer = callback(client, {**query, "state": "forged"})
    assert error_of(answer, f"{FRONTEND}/") == "state_invalid"
    nothing_created(app)


def test_a_forged_state_cookie_is_refused(app, client, provider):
    started = authorize(client, returnTo=f"{FRONTEND}/signed-in")
    query = provider.sign_in(started.headers["Location"])
    client.set_cookie(
        "oauth_state", "eyJmb3JnZWQiOnRydWV9.abc.def", path="/api/v1/auth/oauth"
    )
    assert error_of(callback(client, query), f"{FRONTEND}/") == "state_invalid"
    nothing_created(app)


def test_no_state_cookie_is_refused(app, client, provider):
    started = authorize(client, returnTo=f"{FRONTEND}/signed-in")
    query = provider.sign_in(started.headers["Location"])
    other = app.test_client()
    assert error_of(callback(other, query), f"{FRONTEND}/") == "state_invalid"
    nothing_created(app)


def test_an_expired_state_is_refused(app, client, provider, monkeypatch):
    started = authorize(client, returnTo=f"{FRONTEND}/signed-in")
    query = provider.sign_in(started.headers["Location"])
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 601)
    assert error_of(callback(client, query), f"{FRONTEND}/") == "state_invalid"
    monkeypatch.undo()
    nothing_created(app)


def test_a_replayed_callback_is_refused(app, client, provider):
    started = authorize(client, returnTo=f"{FRONTEND}/signed-in")
    cookie = client.get_cookie("oauth_state", path="/api/v1/auth/oauth").value
    query = provider.sign_in(started.headers["Location"])
    assert "code" in query_of(callback(client, query).headers["Location"])
    # The same cookie, state and code again (an attacker who recorded them).
    client.set_cookie("oauth_state", cookie, path="/api/v1/auth/oauth")
    provider.grants["again"] = None
    assert error_of(callback(client, query), f"{FRONTEND}/") == "state_invalid"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginCode)) == 1


def test_another_providers_state_is_refused(app, client, provider):
    started = authorize(client, returnTo=f"{FRONTEND}/signed-in")
    query = provider.sign_in(started.headers["Location"])
    answer = callback(client, query, provider="github")
    assert error_of(answer, f"{FRONTEND}/") == "state_invalid"
    nothing_created(app)


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "another-client"},
        {"aud": ["another-client"], "azp": "test-client"},
        {"iss": "https://evil.example"},
        {"nonce": "not-the-nonce"},
        {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
        {"azp": "another-client"},
    ],
    ids=["aud", "aud-with-azp", "iss", "nonce", "expired", "azp"],
)
def test_an_id_token_with_wrong_claims_is_refused(app, client, provider, overrides):
    provider.id_token_overrides = overrides
    assert error_of(browser_sign_in(client, provider)) == "id_token_invalid"
    nothing_created(app)


def test_an_id_token_without_nonce_is_refused(app, client, provider):
    provider.id_token_overrides = {"nonce": None}
    assert error_of(browser_sign_in(client, provider)) == "id_token_invalid"
    nothing_created(app)


def test_an_id_token_signed_with_an_unknown_key_is_refused(app, client, provider):
    provider.signing_key = new_key("key-1")  # the published kid, another key
    assert error_of(browser_sign_in(client, provider)) == "id_token_invalid"
    provider.signing_key = new_key("unpublished")
    assert error_of(browser_sign_in(client, provider)) == "id_token_invalid"
    nothing_created(app)


def test_an_unsigned_id_token_is_refused(app, client, provider):
    provider.alg_none = True
    assert error_of(browser_sign_in(client, provider)) == "id_token_invalid"
    nothing_created(app)


def test_rotated_provider_keys_are_fetched_again(app, client, provider):
    assert "code" in query_of(browser_sign_in(client, provider).headers["Location"])
    provider.rotate_keys()
    assert "code" in query_of(browser_sign_in(client, provider).headers["Location"])
    jwks_reads = [path for method, path in provider.requests if path == "/jwks"]
    assert len(jwks_reads) == 2
    discovery = [p for _, p in provider.requests if p.startswith("/.well-known")]
    assert len(discovery) == 1  # cached


def test_a_provider_refusing_the_code_is_an_error(app, client, provider):
    started = authorize(client, returnTo=f"{FRONTEND}/signed-in")
    query = provider.sign_in(started.headers["Location"])
    provider.grants.clear()
    assert error_of(callback(client, query)) == "provider_denied"
    nothing_created(app)


def test_a_provider_down_at_authorize_redirects_with_the_error(app, client, provider):
    provider.down()
    answer = authorize(client, returnTo=f"{FRONTEND}/signed-in")
    assert error_of(answer) == "provider_unavailable"
    assert "oauth_state" not in answer.headers.get("Set-Cookie", "")


def test_a_provider_down_at_callback_redirects_with_the_error(app, client, provider):
    started = authorize(client, returnTo=f"{FRONTEND}/signed-in")
    query = provider.sign_in(started.headers["Location"])
    provider.down()
    assert error_of(callback(client, query)) == "provider_unavailable"
    nothing_created(app)


def test_a_slow_provider_times_out(app, client, provider):
    started = authorize(client, returnTo=f"{FRONTEND}/signed-in")
    query = provider.sign_in(started.headers["Location"])
    provider.slow(2.5)  # OAUTH_HTTP_TIMEOUT is 1 s here
    begun = time.monotonic()
    assert error_of(callback(client, query)) == "provider_unavailable"
    assert time.monotonic() - begun < 2.4
    nothing_created(app)


def test_an_unreachable_provider_is_unavailable(app, make_app, closed_smtp_port):
    other = make_app(
        OIDC_PROVIDERS=[
            {
                "name": "gone",
                "issuer": f"http://127.0.0.1:{closed_smtp_port}",
                "clientId": "x",
                "clientSecret": "y",
            }
        ],
        FRONTEND_URL=FRONTEND,
    )
    answer = authorize(other.test_client(), "gone", returnTo="/")
    assert error_of(answer, f"{FRONTEND}/") == "provider_unavailable"


def test_app_redirect_must_be_registered(client):
    answer = authorize(
        client, mode="bearer", redirectUri="evil.app:/x", codeChallenge="a" * 43
    )
    assert_error(answer, 400, "redirect_uri_invalid")


def test_app_flow_needs_a_challenge(client):
    assert_error(
        authorize(client, mode="bearer", redirectUri=APP_REDIRECT),
        400,
        "validation_error",
    )
    answer = authorize(
        client, mode="bearer", redirectUri=APP_REDIRECT, codeChallenge="!" * 43
    )
    assert_error(answer, 400, "validation_error")
    answer = authorize(
        client,
        mode="bearer",
        redirectUri=APP_REDIRECT,
        codeChallenge="a" * 43,
        codeChallengeMethod="plain",
    )
    assert_error(answer, 400, "validation_error")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"code": ""},
        {"code": 5},
        {"code": "x" * 129},
        {"code": "abc", "extra": 1},
        {"code": "abc", "codeVerifier": "short"},
        {"code": "a\u0000b"},
    ],
)
def test_bad_exchange_bodies_are_400(client, body):
    assert_error(
        client.post("/api/v1/auth/oauth/token", json=body), 400, "validation_error"
    )


@pytest.mark.parametrize("body", [[], "code", None])
def test_exchange_bodies_that_are_no_object_are_400(client, body):
    assert_error(
        client.post("/api/v1/auth/oauth/token", json=body), 400, "invalid_json"
    )


def test_malformed_exchange_json_is_400(client):
    answer = client.post(
        "/api/v1/auth/oauth/token", data="{", content_type="application/json"
    )
    assert_error(answer, 400, "invalid_json")


def test_an_unknown_login_code_is_401(client):
    assert_error(exchange(client, "made-up"), 401, "login_code_invalid")
