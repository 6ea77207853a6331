"""A real OpenID provider for the e2e tests: `oidc-provider` (npm) under node.

`make e2e` installs the package into .e2e-node/ (as it does newman). The provider
runs on 127.0.0.1 while the API and the SPA are on `localhost`: another site, so the
callback is a cross-site navigation and a cookie SameSite mistake shows. `restart`
starts it again with a new signing key (a key rotation).
"""

import json
import os
import shutil
import subprocess
import time
import uuid
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from tests.helpers import skip_or_fail
from tests.servers import ROOT, free_port, run_gunicorn, static_site

SCRIPT = Path(__file__).resolve().parent / "oidc_provider.mjs"
PACKAGE = ROOT / ".e2e-node" / "node_modules" / "oidc-provider"
SPA_DIR = ROOT / "examples" / "spa"
APP_REDIRECT = "com.example.test:/oauth"
CLIENT = {"clientId": "test-client", "clientSecret": "test-client-secret"}
# A loaded machine starts node slowly.
START_TIMEOUT = 120


def on_localhost(url):
    return url.replace("://127.0.0.1:", "://localhost:")


class NodeProvider:
    def __init__(self, port, redirect_uri, workdir):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.redirect_uri = redirect_uri
        self.log_path = workdir / "oidc-provider.log"
        self.process = None

    def start(self, key_id="key-1"):
        node = shutil.which("node")
        if node is None or not PACKAGE.is_dir():
            skip_or_fail("node or oidc-provider missing: run `make e2e`")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [node, str(SCRIPT), str(self.port), self.redirect_uri],
                env={
                    **os.environ,
                    "OIDC_PROVIDER_MODULE": str(PACKAGE),
                    "KEY_ID": key_id,
                },
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"oidc-provider exited:\n{self.log_path.read_text()}"
                )
            with suppress(httpx.HTTPError):
                jwks = httpx.get(f"{self.url}/jwks", timeout=2).json()
                if [key["kid"] for key in jwks["keys"]] == [key_id]:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"oidc-provider not serving:\n{self.log_path.read_text()}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)

    def restart(self, key_id):
        self.stop()
        self.start(key_id)


@dataclass(frozen=True)
class OidcLive:
    api: str
    spa: str
    provider: NodeProvider


@pytest.fixture(scope="module")
def oidc_live(tmp_path_factory):
    """oidc-provider on 127.0.0.1; the API (provider `test`) and SPA on localhost."""
    workdir = tmp_path_factory.mktemp("oidc")
    port = free_port()
    providers_file = workdir / "providers.json"
    providers_file.write_text(
        json.dumps(
            [
                {
                    "name": "test",
                    "label": "Test provider",
                    "issuer": f"http://127.0.0.1:{port}",
                    **CLIENT,
                }
            ]
        )
    )
    spa_overrides = {}
    with ExitStack() as stack:
        spa = on_localhost(stack.enter_context(static_site(SPA_DIR, spa_overrides)))
        api_env = {
            "OIDC_PROVIDERS_FILE": providers_file,
            "FRONTEND_URL": spa,
            "CORS_ORIGINS": spa,
            "OAUTH_APP_REDIRECTS": APP_REDIRECT,
            "COOKIE_SECURE": "false",
            "COOKIE_SAMESITE": "Strict",
            "OAUTH_HTTP_TIMEOUT": "20",
        }
        server = stack.enter_context(run_gunicorn(workdir, workers=2, env=api_env))
        api = on_localhost(server.url)
        spa_overrides["/config.js"] = f'export const API_BASE = "{api}";\n'
        provider = NodeProvider(port, f"{api}/api/v1/auth/oauth/test/callback", workdir)
        stack.callback(provider.stop)
        provider.start()
        yield OidcLive(api=api, spa=spa, provider=provider)


class FormParser(HTMLParser):
    """The first form of a page: its action and its named inputs."""

    def __init__(self):
        super().__init__()
        self.action = None
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attributes.get("action")
        elif tag == "input" and attributes.get("name"):
            self.fields[attributes["name"]] = attributes.get("value") or ""


def app_sign_in(live, *, login, challenge):
    """A mobile app's browser, by hand: follow redirects, fill the provider's forms.

    Returns the login code the API sent to the app's redirect.
    """
    start = (
        f"{live.api}/api/v1/auth/oauth/test/authorize?mode=bearer"
        f"&redirectUri={APP_REDIRECT}&codeChallenge={challenge}&codeChallengeMethod=S256"
    )
    with httpx.Client(timeout=30, follow_redirects=False) as browser:
        answer = browser.get(start)
        for _ in range(20):
            if answer.is_redirect:
                location = answer.headers["Location"]
                if location.startswith(APP_REDIRECT):
                    query = dict(httpx.URL(location).params)
                    assert "code" in query, query
                    return query["code"]
                answer = browser.get(httpx.URL(str(answer.url)).join(location))
                continue
            assert answer.status_code == 200, answer.text
            form = FormParser()
            form.feed(answer.text)
            fields = form.fields
            if "login" in fields:
                fields.update(login=login, password="any password")
            answer = browser.post(
                httpx.URL(str(answer.url)).join(form.action), data=fields
            )
    raise AssertionError("the sign-in did not come back to the app")


def new_login():
    return f"ada{uuid.uuid4().hex[:8]}"
