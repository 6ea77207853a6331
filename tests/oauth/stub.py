"""An OpenID provider stub for the HTTP-level tests: a real HTTP server on 127.0.0.1.

It serves discovery, a JWKS, a token endpoint that checks the client secret and
PKCE, and userinfo, and signs its own ID tokens (PyJWT) with whatever the test
asks for: another `aud`, `iss` or `nonce`, an expired one, a key it does not
publish, `alg: none`. `down()` and `slow()` make it fail the way real ones do.
The authorization page is skipped: `sign_in(location)` plays the user, turning the
authorize redirect into the callback's query.
"""

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "test-client"
CLIENT_SECRET = "test-client-secret"


def new_key(kid):
    return kid, rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Grant:
    nonce: str | None
    challenge: str
    redirect_uri: str
    claims: dict


@dataclass
class ProviderStub:
    base: str = ""
    keys: list = field(default_factory=lambda: [new_key("key-1")])
    grants: dict = field(default_factory=dict)
    # What the next ID token gets wrong: {"aud": "other"}, {"exp": ...}, ...
    id_token_overrides: dict = field(default_factory=dict)
    signing_key: tuple | None = None  # a key not in the JWKS
    alg_none: bool = False
    delay: float = 0.0
    failing: bool = False
    requests: list = field(default_factory=list)
    github_user: dict | None = None
    github_emails: list | None = None

    @property
    def issuer(self):
        return self.base

    def settings(self, name="test", **extra):
        return {
            "name": name,
            "label": "Test provider",
            "issuer": self.issuer,
            "clientId": CLIENT_ID,
            "clientSecret": CLIENT_SECRET,
            **extra,
        }

    def github_settings(self, name="github"):
        return {
            "name": name,
            "preset": "github",
            "clientId": CLIENT_ID,
            "clientSecret": CLIENT_SECRET,
            "authorizeUrl": f"{self.base}/authorize",
            "tokenUrl": f"{self.base}/token",
            "apiBaseUrl": f"{self.base}/api/",
        }

    def down(self):
        self.failing = True

    def slow(self, seconds):
        self.delay = seconds

    def rotate_keys(self):
        self.keys = [new_key(f"key-{secrets.token_hex(4)}")]

    def sign_in(
        self,
        location,
        *,
        sub="user-1",
        email="ada@example.com",
        verified=True,
        **claims,
    ):
        """The user signs in at the provider: the callback's query of this sign-in."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        assert query["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(
            nonce=query.get("nonce"),
            challenge=query["code_challenge"],
            redirect_uri=query["redirect_uri"],
            claims={
                "sub": sub,
                "email": email,
                "email_verified": verified,
                "name": "Ada Lovelace",
                **claims,
            },
        )
        return {"state": query["state"], "code": code}

    def id_token(self, grant):
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            **({"nonce": grant.nonce} if grant.nonce else {}),
            **grant.claims,
            **self.id_token_overrides,
        }
        if self.alg_none:
            return jwt.encode(
                claims, None, algorithm="none", headers={"kid": self.keys[0][0]}
            )
        kid, key = self.signing_key or self.keys[0]
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})

    # The HTTP side

    def answer(self, handler, method):
        self.requests.append((method, handler.path))
        if self.delay:
            time.sleep(self.delay)
        if self.failing:
            return 503, {"error": "down"}
        path = urlsplit(handler.path).path
        if method == "GET" and path == "/.well-known/openid-configuration":
            return 200, {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.base}/authorize",
                "token_endpoint": f"{self.base}/token",
                "jwks_uri": f"{self.base}/jwks",
                "userinfo_endpoint": f"{self.base}/userinfo",
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "code_challenge_methods_supported": ["S256"],
            }
        if method == "GET" and path == "/jwks":
            return 200, {
                "keys": [
                    {
                        **json.loads(
                            jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())
                        ),
                        "kid": kid,
                        "use": "sig",
                        "alg": "RS256",
                    }
                    for kid, key in self.keys
                ]
            }
        if method == "POST" and path == "/token":
            return self.token(handler)
        if method == "GET" and path == "/api/user":
            return 200, self.github_user
        if method == "GET" and path == "/api/user/emails":
            return 200, self.github_emails
        if method == "GET" and path == "/userinfo":
            return 200, {"sub": "user-1"}
        return 404, {"error": "not_found"}

    def token(self, handler):
        length = int(handler.headers.get("Content-Length") or 0)
        form = {
            k: v[0] for k, v in parse_qs(handler.rfile.read(length).decode()).items()
        }
        secret_ok = form.get("client_secret") == CLIENT_SECRET
        auth = handler.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            secret_ok = user == CLIENT_ID and password == CLIENT_SECRET
        if not secret_ok:
            return 401, {"error": "invalid_client"}
        grant = self.grants.pop(form.get("code"), None)
        if grant is None or form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE"}
        body = {
            "access_token": secrets.token_urlsafe(16),
            "token_type": "Bearer",
            "expires_in": 300,
        }
        if self.github_user is None:
            body["id_token"] = self.id_token(grant)
        return 200, body


def serve(stub):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send(*stub.answer(self, "GET"))

        def do_POST(self):  # noqa: N802
            self.send(*stub.answer(self, "POST"))

        def send(self, status, payload):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stub.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server
