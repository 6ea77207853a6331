"""The SPA's flow through the HTTP API against the provider stub."""

import jwt
from sqlalchemy import func, select, update

from app import clock
from app.extensions import db
from app.models import AuditEvent, Identity, User
from tests.auth.mfa import code_at, enrol, verify
from tests.helpers import assert_error, assert_ok, cookie_attributes, set_cookie_headers
from tests.oauth.conftest import FRONTEND, query_of
from tests.oauth.flows import authorize, browser_sign_in, callback, exchange, login_code
from tests.urls import ME, OAUTH_PROVIDERS, REFRESH


def test_providers_are_listed(client):
    data = assert_ok(client.get(OAUTH_PROVIDERS))
    assert data["providers"] == [
        {"name": "test", "label": "Test provider"},
        {"name": "github", "label": "Github"},
    ]


def test_authorize_redirects_with_state_nonce_and_pkce_in_a_lax_cookie(
    client, provider
):
    answer = authorize(client, returnTo=f"{FRONTEND}/done")
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(f"{provider.base}/authorize?")
    query = query_of(location)
    assert query["response_type"] == "code"
    assert query["client_id"] == "test-client"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["state"] and query["nonce"]
    assert "openid" in query["scope"].split()
    assert query["redirect_uri"].endswith("/api/v1/auth/oauth/test/callback")
    (header,) = set_cookie_headers(answer, "oauth_state")
    value, attributes = cookie_attributes(header)
    assert query["state"] not in value or "." in value  # signed, not the bare state
    assert attributes["httponly"] is True
    assert attributes["samesite"] == "Lax"
    assert attributes["path"] == "/api/v1/auth/oauth"
    assert int(attributes["max-age"]) == 600
    assert answer.headers["Cache-Control"] == "no-store"


def test_first_sign_in_creates_an_account_and_the_code_logs_in(app, client, provider):
    answer = browser_sign_in(client, provider, email="Ada@Example.com")
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(f"{FRONTEND}/signed-in?")
    # The state cookie is gone once the callback ran.
    (cleared,) = set_cookie_headers(answer, "oauth_state")
    assert cookie_attributes(cleared)[0] == ""
    code = query_of(location)["code"]
    data = assert_ok(exchange(client, code))
    assert data["email"] == "ada@example.com"
    assert data["name"] == "Ada Lovelace"
    assert data["emailVerified"] is True
    assert "refreshToken" not in data  # cookie transport
    assert set_cookie_headers(client.post(REFRESH), "refresh_token") == []  # CSRF
    me = assert_ok(
        client.get(ME, headers={"Authorization": f"Bearer {data['accessToken']}"})
    )
    assert me["user"]["email"] == "ada@example.com"
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.password_hash == ""
        identity = db.session.scalar(select(Identity))
        assert (identity.provider, identity.subject) == ("test", "user-1")
        types = set(db.session.scalars(select(AuditEvent.type)))
        assert {"identity_linked", "identity_sign_in", "login_ok"} <= types


def test_the_session_is_a_federated_one(client, provider):
    data = assert_ok(exchange(client, login_code(client, provider)))
    claims = jwt.decode(data["accessToken"], options={"verify_signature": False})
    assert claims["amr"] == ["fed"]


def test_a_second_sign_in_finds_the_same_account(app, client, provider):
    first = assert_ok(exchange(client, login_code(client, provider)))
    second = assert_ok(exchange(client, login_code(client, provider)))
    assert first["id"] == second["id"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_unverified_provider_email_makes_an_unverified_account(client, provider):
    data = assert_ok(exchange(client, login_code(client, provider, verified=False)))
    assert data["emailVerified"] is False


def test_verified_emails_on_both_sides_link_automatically(
    app, client, provider, make_user
):
    user = make_user(email="ada@example.com", email_verified_at=clock.now())
    data = assert_ok(exchange(client, login_code(client, provider)))
    assert data["id"] == str(user.id)


def test_an_unverified_local_account_is_not_taken_over(
    app, client, provider, make_user
):
    make_user(email="ada@example.com")
    answer = browser_sign_in(client, provider)
    assert query_of(answer.headers["Location"]) == {"error": "account_exists"}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Identity)) == 0
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_an_unverified_provider_email_does_not_link(app, client, provider, make_user):
    make_user(email="ada@example.com", email_verified_at=clock.now())
    answer = browser_sign_in(client, provider, verified=False)
    assert query_of(answer.headers["Location"]) == {"error": "account_exists"}


def test_cancelled_at_the_provider_redirects_with_an_error(app, client, provider):
    started = authorize(client, returnTo=f"{FRONTEND}/x")
    state = query_of(started.headers["Location"])["state"]
    answer = callback(client, {"state": state, "error": "access_denied"})
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"{FRONTEND}/x?error=provider_denied"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_the_login_code_works_once(client, provider):
    code = login_code(client, provider)
    assert_ok(exchange(client, code))
    assert_error(exchange(client, code), 401, "login_code_invalid")


def test_the_login_code_expires(client, provider, move_clock):
    code = login_code(client, provider)
    move_clock(seconds=61)
    assert_error(exchange(client, code), 401, "login_code_invalid")


def test_mfa_accounts_get_the_second_factor_challenge(
    app, client, provider, auth, move_clock
):
    caller = auth.register(email="ada@example.com")
    secret, _ = enrol(caller, move_clock)
    with app.app_context():
        db.session.execute(update(User).values(email_verified_at=clock.now()))
        db.session.commit()
    data = assert_ok(exchange(client, login_code(client, provider)))
    assert data["mfaRequired"] is True
    assert "accessToken" not in data
    assert set_cookie_headers(client.post(REFRESH), "refresh_token") == []
    done = assert_ok(
        verify(client, data["mfaToken"], mode="cookie", code=code_at(secret))
    )
    assert done["id"] == caller.user["id"]
    claims = jwt.decode(done["accessToken"], options={"verify_signature": False})
    assert claims["amr"] == ["fed", "otp"]
