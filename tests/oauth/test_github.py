"""The GitHub preset: plain OAuth 2.0, the user and verified emails from its API."""

from tests.helpers import assert_ok
from tests.oauth.conftest import FRONTEND, query_of
from tests.oauth.flows import authorize, callback, exchange


def github_sign_in(client, provider):
    started = authorize(client, "github", returnTo=f"{FRONTEND}/gh")
    location = started.headers["Location"]
    query = query_of(location)
    assert location.startswith(f"{provider.base}/authorize?")
    assert "nonce" not in query
    assert query["scope"] == "read:user user:email"
    return callback(client, provider.sign_in(location), provider="github")


def test_github_sign_in_uses_the_primary_verified_email(app, client, provider):
    provider.github_user = {"id": 4242, "login": "ada", "name": None}
    provider.github_emails = [
        {"email": "other@example.com", "primary": False, "verified": True},
        {"email": "Ada@Example.com", "primary": True, "verified": True},
    ]
    answer = github_sign_in(client, provider)
    data = assert_ok(exchange(client, query_of(answer.headers["Location"])["code"]))
    assert data["email"] == "ada@example.com"
    assert data["name"] == "ada"
    assert data["emailVerified"] is True


def test_github_without_a_verified_email_signs_in_nobody(app, client, provider):
    provider.github_user = {"id": 4242, "login": "ada", "name": "Ada"}
    provider.github_emails = [
        {"email": "a@example.com", "primary": True, "verified": False}
    ]
    answer = github_sign_in(client, provider)
    assert query_of(answer.headers["Location"]) == {"error": "provider_denied"}


def test_github_api_down_is_provider_unavailable(app, client, provider):
    provider.github_user = "not a user"
    provider.github_emails = []
    answer = github_sign_in(client, provider)
    assert query_of(answer.headers["Location"]) == {"error": "provider_unavailable"}
