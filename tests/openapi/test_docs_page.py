"""`GET /docs`: Swagger UI from the app's own files, under a CSP of its own."""

import re

from tests.helpers import assert_error
from tests.urls import DOCS, OPENAPI

ASSET = re.compile(r'(?:src|href)="([^"]+)"')


def test_docs_page_is_swagger_ui(client):
    response = client.get(DOCS)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'id="swagger-ui"' in page
    assert f'data-spec-url="{OPENAPI}"' in page
    # No inline script: the CSP below allows only the page's own files.
    assert "<script>" not in page


def test_docs_page_loads_nothing_from_elsewhere(client):
    page = client.get(DOCS).get_data(as_text=True)
    assets = ASSET.findall(page)
    assert len(assets) >= 4
    for url in assets:
        assert url.startswith("/docs/"), url
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.content_length or response.get_data()


def test_docs_assets_have_their_types(client):
    expected = {
        "/docs/swagger-ui-bundle.js": "text/javascript",
        "/docs/docs.js": "text/javascript",
        "/docs/swagger-ui.css": "text/css",
        "/docs/favicon-32x32.png": "image/png",
    }
    for url, mimetype in expected.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype == mimetype, url
        assert "max-age" in response.headers["Cache-Control"]


def test_docs_page_has_its_own_csp_and_the_api_keeps_the_strict_one(client):
    page_policy = client.get(DOCS).headers["Content-Security-Policy"]
    directives = dict(
        (part.split(" ", 1) + [""])[:2] for part in page_policy.split("; ")
    )
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in page_policy
    assert "unsafe-eval" not in page_policy
    api_policy = client.get(OPENAPI).headers["Content-Security-Policy"]
    assert api_policy.startswith("default-src 'none'")
    assert client.get(DOCS).headers["X-Content-Type-Options"] == "nosniff"


def test_only_the_page_files_are_served(client):
    for url in (
        "/docs/LICENSE",
        "/docs/oauth2-redirect.html",
        "/docs/../config.py",
        "/docs/%2e%2e/config.py",
        "/docs/static/docs.js",
    ):
        response = client.get(url)
        assert_error(response, 404, "not_found")


def test_docs_script_authorizes_after_login(client):
    script = client.get("/docs/docs.js").get_data(as_text=True)
    assert "persistAuthorization: true" in script
    assert 'preauthorizeApiKey("accessToken"' in script
    assert "csrf_refresh_token" in script
