"""What the fault tests send and measure: answers with their latency, and the log."""

import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from tests.servers import json_lines

PASSWORD = "correct horse battery staple"
BEARER = {"X-Auth-Mode": "bearer"}
TIMEOUT = 30


@dataclass
class Answer:
    status: int
    code: str | None
    seconds: float
    retry_after: str | None
    body: dict

    def __repr__(self):
        return f"{self.status} {self.code} {self.seconds:.2f}s"


def call(server, method, path, *, ip=None, **options):
    """One request on a new connection (so either worker may take it)."""
    headers = {"Connection": "close", **options.pop("headers", {})}
    if ip:
        headers["X-Forwarded-For"] = ip
    started = time.monotonic()
    response = requests.request(
        method, f"{server.url}{path}", headers=headers, timeout=TIMEOUT, **options
    )
    seconds = time.monotonic() - started
    try:
        body = response.json()
    except ValueError:
        body = {}
    return Answer(
        response.status_code,
        body.get("code"),
        seconds,
        response.headers.get("Retry-After"),
        body,
    )


def in_parallel(calls, workers=8):
    """Run the zero-argument callables at once; their answers, in order."""
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda fn: fn(), calls))


def new_email():
    return f"ada-{uuid.uuid4().hex[:12]}@example.com"


@dataclass
class Account:
    email: str
    access_token: str
    refresh_token: str

    @property
    def headers(self):
        return {"Authorization": f"Bearer {self.access_token}"}

    @property
    def refresh_headers(self):
        return {**BEARER, "Authorization": f"Bearer {self.refresh_token}"}


def register(server):
    email = new_email()
    answer = call(
        server,
        "POST",
        "/api/v1/auth/register",
        json={"name": "Ada", "email": email, "password": PASSWORD},
        headers=BEARER,
    )
    assert answer.status == 201, answer.body
    data = answer.body["data"]
    return Account(email, data["accessToken"], data["refreshToken"])


def refresh(server, account):
    """Rotate the account's refresh token; the answer (tokens updated on 200)."""
    answer = call(
        server, "POST", "/api/v1/auth/refresh-token", headers=account.refresh_headers
    )
    if answer.status == 200:
        account.access_token = answer.body["data"]["accessToken"]
        account.refresh_token = answer.body["data"]["refreshToken"]
    return answer


class LogWindow:
    """The server's JSON log lines written since `mark()`."""

    def __init__(self, server):
        self.server = server
        self.offset = 0

    def mark(self):
        self.offset = len(self.server.log_path.read_bytes())

    def text(self):
        return self.server.log_path.read_bytes()[self.offset :].decode(
            "utf-8", "replace"
        )

    def lines(self):
        return json_lines(self.text())

    def outage_lines(self):
        """(pid, kind) -> how many `dependency_unavailable` lines."""
        return Counter(
            (line["pid"], line["kind"])
            for line in self.lines()
            if line.get("event") == "dependency_unavailable"
        )

    def kinds_ever_logged(self):
        """Outage kinds in the whole log (a window may hold none: once per 10 s)."""
        whole = LogWindow(self.server)
        return {kind for _, kind in whole.outage_lines()}

    def request_statuses(self):
        return Counter(
            line["status"] for line in self.lines() if line.get("event") == "request"
        )

    def pids(self, path):
        return {
            line["pid"]
            for line in self.lines()
            if line.get("event") == "request" and line.get("path") == path
        }
