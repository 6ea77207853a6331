"""The caller's identities: list, link from the settings, unlink (never the last)."""

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Identity
from tests.conftest import PASSWORD
from tests.helpers import assert_error, assert_ok
from tests.oauth.conftest import FRONTEND, query_of
from tests.oauth.flows import authorize, callback, exchange, login_code
from tests.urls import IDENTITIES, LOGIN, MFA_SETUP, PASSWORD_CHANGE, identity


def provider_caller(client, provider, **claims):
    """Signed in through the provider (a passwordless account): its bearer headers."""
    data = assert_ok(exchange(client, login_code(client, provider, **claims)))
    return {"Authorization": f"Bearer {data['accessToken']}"}


def link(client, headers, provider_stub, provider="test", **claims):
    """Link from the settings: the callback's query."""
    data = assert_ok(
        client.post(
            identity(provider, "link"), json={"returnTo": "/settings"}, headers=headers
        )
    )
    url = data["authorizationUrl"]
    assert "/api/v1/auth/oauth/test/authorize?" in url
    started = client.get(url)
    assert started.status_code == 302, started.get_data(as_text=True)
    answer = callback(
        client, provider_stub.sign_in(started.headers["Location"], **claims)
    )
    assert answer.headers["Location"].startswith(f"{FRONTEND}/settings?")
    return query_of(answer.headers["Location"])


def test_identities_are_listed(client, provider):
    headers = provider_caller(client, provider)
    data = assert_ok(client.get(IDENTITIES, headers=headers))
    assert data["hasPassword"] is False
    (item,) = data["identities"]
    assert item["provider"] == "test"
    assert item["email"] == "ada@example.com"
    assert item["createdAt"] and item["lastSignInAt"]


def test_identities_need_an_access_token(client):
    assert_error(client.get(IDENTITIES), 401, "token_missing")


def test_the_last_way_to_sign_in_cannot_be_unlinked(app, client, provider):
    headers = provider_caller(client, provider)
    assert_error(
        client.delete(identity("test"), headers=headers), 409, "last_sign_in_method"
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Identity)) == 1


def test_a_passwordless_account_has_no_password_login(client, provider):
    provider_caller(client, provider)
    answer = client.post(LOGIN, json={"email": "ada@example.com", "password": ""})
    assert answer.status_code == 400
    answer = client.post(LOGIN, json={"email": "ada@example.com", "password": "x"})
    assert_error(answer, 401, "invalid_credentials")


def test_an_unverified_account_links_from_its_settings(app, client, provider, auth):
    caller = auth.register(email="ada@example.com")
    assert link(client, caller.headers, provider) == {"linked": "test"}
    data = assert_ok(client.get(IDENTITIES, headers=caller.headers))
    assert data["hasPassword"] is True
    assert [item["provider"] for item in data["identities"]] == ["test"]
    # The provider now signs in to that account.
    signed_in = assert_ok(exchange(client, login_code(client, provider)))
    assert signed_in["id"] == caller.user["id"]
    # With a password, the identity can go.
    assert_ok(client.delete(identity("test"), headers=caller.headers))
    assert assert_ok(client.get(IDENTITIES, headers=caller.headers))["identities"] == []
    assert_error(
        client.delete(identity("test"), headers=caller.headers), 404, "not_found"
    )
    with app.app_context():
        types = list(db.session.scalars(select(AuditEvent.type)))
        assert "identity_linked" in types and "identity_unlinked" in types


def test_a_provider_account_of_another_user_is_not_linked(app, client, provider, auth):
    provider_caller(app.test_client(), provider, sub="taken", email="other@example.com")
    caller = auth.register()
    assert link(client, caller.headers, provider, sub="taken") == {
        "error": "identity_in_use"
    }
    assert assert_ok(client.get(IDENTITIES, headers=caller.headers))["identities"] == []


def test_a_forged_link_token_is_refused(client):
    answer = authorize(client, link="forged.token.value", returnTo="/")
    assert_error(answer, 401, "token_invalid")


def test_link_checks_return_to_and_provider(client, auth):
    caller = auth.register()
    answer = client.post(
        identity("test", "link"),
        json={"returnTo": "https://evil.example/"},
        headers=caller.headers,
    )
    assert_error(answer, 400, "return_to_invalid")
    assert_error(
        client.post(identity("nope", "link"), headers=caller.headers), 404, "not_found"
    )


def test_link_needs_a_recent_second_factor_with_mfa(client, auth, move_clock):
    from tests.auth.mfa import enrol

    caller = auth.register()
    enrol(caller, move_clock)
    move_clock(seconds=600)
    answer = client.post(identity("test", "link"), headers=caller.headers)
    assert_error(answer, 403, "mfa_required")


def test_a_passwordless_account_with_two_identities_can_unlink_one(
    app, client, provider
):
    headers = provider_caller(client, provider)
    provider.github_user = {"id": 7, "login": "ada", "name": "Ada"}
    provider.github_emails = [
        {"email": "ada@example.com", "primary": True, "verified": True}
    ]
    data = assert_ok(
        client.post(
            identity("github", "link"), json={"returnTo": "/settings"}, headers=headers
        )
    )
    started = client.get(data["authorizationUrl"])
    answer = callback(
        client, provider.sign_in(started.headers["Location"]), provider="github"
    )
    assert query_of(answer.headers["Location"]) == {"linked": "github"}
    assert_ok(client.delete(identity("test"), headers=headers))
    assert_error(
        client.delete(identity("github"), headers=headers), 409, "last_sign_in_method"
    )
    assert PASSWORD


def test_a_passwordless_account_enrols_mfa_after_a_fresh_provider_sign_in(
    client, provider, move_clock
):
    headers = provider_caller(client, provider)
    setup = client.post(MFA_SETUP, json={"password": "-"}, headers=headers)
    assert assert_ok(setup)["secret"]
    move_clock(seconds=301)
    stale = client.post(MFA_SETUP, json={"password": "-"}, headers=headers)
    assert_error(stale, 403, "reauthentication_required")


def test_a_passwordless_account_sets_its_first_password_after_a_provider_sign_in(
    client, provider, move_clock
):
    headers = provider_caller(client, provider)
    new = "a brand new passphrase"
    move_clock(seconds=301)
    body = {"oldPassword": "-", "newPassword": new}
    stale = client.post(PASSWORD_CHANGE, json=body, headers=headers)
    assert_error(stale, 403, "reauthentication_required")
    move_clock(seconds=-301)
    assert_ok(client.post(PASSWORD_CHANGE, json=body, headers=headers))
    login = client.post(LOGIN, json={"email": "ada@example.com", "password": new})
    assert assert_ok(login)["email"] == "ada@example.com"
    assert assert_ok(client.get(IDENTITIES, headers=headers))["hasPassword"] is True
