"""Fixtures: a provider stub configured as the app's `test` provider."""

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.oauth.stub import ProviderStub, serve

FRONTEND = "http://localhost:3000"
APP_REDIRECT = "com.example.app:/oauth"


@pytest.fixture
def provider():
    stub = ProviderStub()
    server = serve(stub)
    yield stub
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(provider):
    return {
        "OIDC_PROVIDERS": [provider.settings(), provider.github_settings()],
        "FRONTEND_URL": FRONTEND,
        "OAUTH_APP_REDIRECTS": [APP_REDIRECT],
        "OAUTH_HTTP_TIMEOUT": 1.0,
    }


def query_of(location):
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
