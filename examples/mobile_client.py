"""Example client for the bearer transport, as a mobile or desktop app would use it.

Needs httpx (`pip install httpx`). Tokens are kept in a file only its owner can read
(mode 0600), as an app would keep them in the platform's secure storage.

    python examples/mobile_client.py --base-url http://127.0.0.1:8000 login EMAIL
    python examples/mobile_client.py --base-url http://127.0.0.1:8000 me
    python examples/mobile_client.py --base-url http://127.0.0.1:8000 logout

The password is read from the AUTH_PASSWORD environment variable, else prompted for.
An account with two-factor sign-in also needs the authenticator app's code (or a
recovery code): from AUTH_MFA_CODE, else prompted for.
"""

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

import httpx

API = "/api/v1"
DEFAULT_TOKEN_FILE = Path.home() / ".auth-example-tokens.json"
# Every call says "bearer": no cookies, and the refresh token comes back in the body.
BEARER_MODE = {"X-Auth-Mode": "bearer"}


class ClientError(Exception):
    """A failed call, with the API's error code when the server sent one."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


class TokenStore:
    """The tokens of one session in a JSON file readable by its owner only."""

    def __init__(self, path):
        self.path = Path(path)

    def load(self):
        """The stored tokens, or None when not logged in."""
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return None

    def save(self, tokens):
        """Write atomically: a new 0600 file replaces the old one.

        os.open creates it with mode 0600 at once (no moment with wider permissions),
        and O_EXCL refuses a file or link someone placed there beforehand.
        """
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as handle:
                json.dump(tokens, handle)
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def clear(self):
        self.path.unlink(missing_ok=True)


class AuthClient:
    """Login, profile, refresh with rotation, logout over the bearer transport."""

    def __init__(self, base_url, store, *, http=None):
        self.base_url = base_url.rstrip("/")
        self.store = store
        self.http = http or httpx.Client(base_url=self.base_url, timeout=10)

    def _request(self, method, path, *, token=None, json_body=None):
        headers = dict(BEARER_MODE)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self.http.request(
                method, API + path, headers=headers, json=json_body
            )
        except httpx.HTTPError as error:
            raise ClientError(f"cannot reach {self.base_url}: {error}") from None
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if not response.is_success or not payload.get("success"):
            message = payload.get("error") or f"HTTP {response.status_code}"
            raise ClientError(message, payload.get("code"))
        return payload["data"]

    def _tokens(self):
        tokens = self.store.load()
        if not tokens:
            raise ClientError("not logged in: run `login EMAIL` first")
        # Tokens of one server are never sent to another.
        if tokens.get("baseUrl") != self.base_url:
            raise ClientError(f"the stored tokens belong to {tokens.get('baseUrl')}")
        return tokens

    def _keep(self, data):
        self.store.save(
            {
                "baseUrl": self.base_url,
                "accessToken": data["accessToken"],
                "refreshToken": data["refreshToken"],
            }
        )

    def login(self, email, password, second_factor=None):
        """Open a session; store its tokens; return the profile fields.

        `second_factor()` gives the code when the account has two-factor sign-in.
        """
        data = self._request(
            "POST", "/auth/login", json_body={"email": email, "password": password}
        )
        if data.get("mfaRequired"):
            if second_factor is None:
                raise ClientError("this account needs an authentication code")
            code = second_factor().strip()
            # A 6-digit code of the app, else one of the recovery codes.
            field = "code" if code.isdigit() and len(code) == 6 else "recoveryCode"
            data = self._request(
                "POST",
                "/auth/mfa/verify",
                json_body={"mfaToken": data["mfaToken"], field: code},
            )
        self._keep(data)
        return data

    def refresh(self):
        """Trade the refresh token for new tokens; the old refresh token is spent."""
        tokens = self._tokens()
        try:
            data = self._request(
                "POST", "/auth/refresh-token", token=tokens["refreshToken"]
            )
        except ClientError as error:
            if error.code and error.code.startswith("token_"):
                # The session is over (logged out elsewhere, expired, revoked).
                self.store.clear()
                raise ClientError("session ended: log in again", error.code) from None
            raise
        # Rotation: store the new refresh token at once, the old one no longer works.
        self._keep(data)

    def call(self, method, path, **kwargs):
        """An authenticated call; on 401 refresh once and retry once."""
        try:
            return self._request(
                method, path, token=self._tokens()["accessToken"], **kwargs
            )
        except ClientError as error:
            if error.code not in {"token_expired", "token_invalid", "token_missing"}:
                raise
        self.refresh()
        return self._request(
            method, path, token=self._tokens()["accessToken"], **kwargs
        )

    def me(self):
        """The logged-in user's profile."""
        return self.call("GET", "/users/me")["user"]

    def logout(self):
        """End the session on the server, then forget the tokens."""
        tokens = self._tokens()
        try:
            self._request("POST", "/auth/logout", token=tokens["refreshToken"])
        except ClientError as error:
            # An already-ended session is logged out all the same.
            if not (error.code and error.code.startswith("token_")):
                raise
        self.store.clear()


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--base-url",
        default=os.environ.get("AUTH_BASE_URL", "http://127.0.0.1:8000"),
        help="the API server (default: $AUTH_BASE_URL or http://127.0.0.1:8000)",
    )
    parser.add_argument(
        "--token-file",
        default=os.environ.get("AUTH_TOKEN_FILE", DEFAULT_TOKEN_FILE),
        help=f"where tokens are kept, mode 0600 (default: {DEFAULT_TOKEN_FILE})",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    login = commands.add_parser("login", help="log in; password from $AUTH_PASSWORD")
    login.add_argument("email")
    commands.add_parser("me", help="show the profile (refreshes tokens when needed)")
    commands.add_parser("logout", help="end the session and delete the tokens")
    return parser.parse_args(argv)


def mfa_code():
    return os.environ.get("AUTH_MFA_CODE") or input("Authentication code: ")


def main(argv=None):
    args = parse_args(argv)
    client = AuthClient(args.base_url, TokenStore(args.token_file))
    try:
        if args.command == "login":
            password = os.environ.get("AUTH_PASSWORD") or getpass.getpass()
            profile = client.login(args.email, password, second_factor=mfa_code)
            print(f"Logged in as {profile['name']} <{profile['email']}>")
        elif args.command == "me":
            print(json.dumps(client.me(), indent=2))
        elif args.command == "logout":
            client.logout()
            print("Logged out.")
    except ClientError as error:
        suffix = f" ({error.code})" if error.code else ""
        print(f"error: {error}{suffix}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
