"""Clients of the cluster through nginx: bearer sessions that refresh in time."""

import time
import uuid
from dataclasses import dataclass, field

from tests.cluster.conftest import ACCESS_TOKEN_TTL, PASSWORD
from tests.urls import LOGIN, ME, REFRESH, REGISTER

BEARER = {"X-Auth-Mode": "bearer"}


def new_email():
    return f"ada-{uuid.uuid4().hex[:10]}@example.com"


def register(client, email=None):
    """A new account (bearer transport); returns (email, tokens)."""
    email = email or new_email()
    response = client.post(
        REGISTER,
        json={"name": "Ada Lovelace", "email": email, "password": PASSWORD},
        headers=BEARER,
    )
    assert response.status_code == 201, response.text
    return email, response.json()["data"]


@dataclass
class BearerSession:
    """One signed-in client; refreshes its access token before it expires, as a
    well-behaved client does, so that an expiry never shows as a 401."""

    client: object
    tokens: dict
    issued: float = field(default_factory=time.monotonic)

    @classmethod
    def login(cls, client, email):
        response = client.post(
            LOGIN, json={"email": email, "password": PASSWORD}, headers=BEARER
        )
        assert response.status_code == 200, response.text
        return cls(client, response.json()["data"])

    @property
    def bearer(self):
        return {"Authorization": f"Bearer {self.tokens['accessToken']}"}

    def refresh(self):
        response = self.client.post(
            REFRESH,
            headers={
                **BEARER,
                "Authorization": f"Bearer {self.tokens['refreshToken']}",
            },
        )
        if response.status_code == 200:
            self.tokens = response.json()["data"]
            self.issued = time.monotonic()
        return response

    def fresh(self):
        """Refresh once a quarter of the access token's lifetime has passed: the
        rest is the slack for a request that waits (a host restarting, a busy CI)."""
        if time.monotonic() - self.issued > ACCESS_TOKEN_TTL / 4:
            response = self.refresh()
            assert response.status_code == 200, response.text

    def me(self):
        return self.client.get(ME, headers=self.bearer)
