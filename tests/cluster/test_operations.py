"""Operations on the running cluster: rolling restarts under a steady mixed load, and
a rotation of the asymmetric signing key across the hosts, with no failed request,
no 5xx and no 401 for any client, and a downstream JWKS verifier kept verifying."""

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field

import httpx
import jwt

from tests.cluster.clients import BEARER, BearerSession, register
from tests.cluster.conftest import ACCESS_TOKEN_TTL, ORIGIN, PASSWORD, SITE_ADDRESS
from tests.cluster.deployment import unit_exec_start, unit_settings, verify_units
from tests.helpers import skip_or_fail
from tests.servers import ROOT
from tests.urls import JWKS, LOGIN, ME

VERIFIER = ROOT / "examples" / "jwks-verifier"
LOAD_CLIENTS = 4
# Seconds between a load client's logins: under RATELIMIT_LOGIN (10 a minute per IP).
LOGIN_EVERY = 8


@dataclass
class Load:
    """Clients calling the site steadily: /users/me, refresh, login, the JWKS.

    Each is a well-behaved client: its own address, its own account, a refresh
    before its access token expires. Any exception, 5xx or 401 is a failure.
    """

    cluster: object
    stop: threading.Event = field(default_factory=threading.Event)
    counts: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)
    served_by: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list = field(default_factory=list)

    def record(self, what, response):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1
            host = response.headers.get("X-Served-By")
            self.served_by[host] = self.served_by.get(host, 0) + 1
            if response.status_code >= 400:
                self.failures.append((what, response.status_code, response.text[:200]))

    def client_loop(self, index):
        with self.cluster.client(source=f"127.0.90.{index + 1}") as client:
            email, _ = register(client)
            session = BearerSession.login(client, email)
            step = 0
            next_login = time.monotonic() + LOGIN_EVERY
            while not self.stop.is_set():
                step += 1
                try:
                    session.fresh()
                    self.record("me", session.me())
                    if step % 5 == 0:
                        self.record("refresh", session.refresh())
                    if step % 7 == 0:
                        self.record("jwks", client.get(JWKS))
                    # Paced by the clock, not by steps: on a quiet machine 40 steps
                    # take a second, and the per-IP login limit (10 a minute) bites.
                    if time.monotonic() >= next_login:
                        next_login += LOGIN_EVERY
                        response = client.post(
                            LOGIN,
                            json={"email": email, "password": PASSWORD},
                            headers=BEARER,
                        )
                        self.record("login", response)
                        if response.status_code == 200:
                            session = BearerSession(client, response.json()["data"])
                except Exception as error:  # noqa: BLE001 (every failure counts)
                    with self.lock:
                        self.failures.append(("exception", repr(error)))
                time.sleep(0.02)

    def __enter__(self):
        for index in range(LOAD_CLIENTS):
            thread = threading.Thread(target=self.client_loop, args=(index,))
            thread.start()
            self.threads.append(thread)
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(60)

    def requests(self):
        with self.lock:
            return sum(self.counts.values())

    def served_since(self, host, count):
        """Wait until `host` answered `count` more load requests through nginx."""
        start = self.served_by.get(host, 0)
        deadline = time.monotonic() + 30
        while self.served_by.get(host, 0) < start + count:
            assert time.monotonic() < deadline, f"{host} gets no requests from nginx"
            time.sleep(0.1)


def rolling_restart(cluster, load, **changes):
    """systemctl restart on A, then B: each host back in nginx before the next."""
    for host in cluster.hosts.values():
        host.restart(**changes)
        load.served_since(host.served_by, 10)


def kids(cluster):
    with cluster.client() as client:
        return {key["kid"] for key in client.get(JWKS).json()["keys"]}


def verify_downstream(cluster, token):
    """examples/jwks-verifier (node jose) checks the token with the JWKS via nginx."""
    result = subprocess.run(
        ["node", "verify.mjs", f"https://{SITE_ADDRESS}", ORIGIN, "auth-server", token],
        cwd=VERIFIER,
        env={**os.environ, "NODE_EXTRA_CA_CERTS": str(cluster.ca)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def access_token_kid(session):
    return jwt.get_unverified_header(session.tokens["accessToken"])["kid"]


def new_session(cluster):
    client = cluster.client(source="127.0.91.1")
    email, _ = register(client)
    return BearerSession.login(client, email)


def test_rolling_restarts_rotating_the_signing_key_under_load(cluster):
    if shutil.which("node") is None or not (VERIFIER / "node_modules").is_dir():
        skip_or_fail("node and examples/jwks-verifier/node_modules: run `make cluster`")
    old_private, old_public = cluster.keys["old"]
    new_private, new_public = cluster.keys["new"]
    watcher = new_session(cluster)
    old_kid = access_token_kid(watcher)
    assert kids(cluster) == {old_kid}
    assert verify_downstream(cluster, watcher.tokens["accessToken"])["claims"]["sub"]

    with Load(cluster) as load:
        time.sleep(2)
        # A reload (ExecReload, HUP) of one host: new workers, nothing refused.
        reload_argv = unit_settings("auth-server.service")["ExecReload"][0]
        assert reload_argv == "/bin/kill -s HUP $MAINPID"
        cluster.hosts["a"].process.send_signal(signal.SIGHUP)
        time.sleep(3)

        # 1. Publish the next key: every host verifies it, nothing signs with it.
        rolling_restart(cluster, load, JWT_PREVIOUS_PUBLIC_KEY_FILES=str(new_public))
        published = kids(cluster)
        assert old_kid in published and len(published) == 2
        (new_kid,) = published - {old_kid}
        watcher.fresh()
        assert access_token_kid(watcher) == old_kid

        # 2. Switch signing, host by host; the old key still verifies everywhere.
        switch = {
            "JWT_PRIVATE_KEY_FILE": str(new_private),
            "JWT_PREVIOUS_PUBLIC_KEY_FILES": str(old_public),
        }
        host_a, host_b = cluster.hosts["a"], cluster.hosts["b"]
        host_a.restart(**switch)
        load.served_since(host_a.served_by, 10)
        # Halfway: A signs with the new key, B with the old; both verify on both
        # hosts and downstream.
        seen = set()
        for _ in range(40):
            assert watcher.refresh().status_code == 200
            kid, token = access_token_kid(watcher), watcher.tokens["accessToken"]
            if kid in seen:
                continue
            seen.add(kid)
            for host in cluster.hosts.values():
                me = httpx.get(
                    f"{host.url}{ME}",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=10,
                )
                assert me.status_code == 200, me.text
            assert verify_downstream(cluster, token)
            if len(seen) == 2:
                break
        assert seen == {old_kid, new_kid}
        host_b.restart(**switch)
        load.served_since(host_b.served_by, 10)
        switched = time.monotonic()
        assert watcher.refresh().status_code == 200
        assert access_token_kid(watcher) == new_kid

        # 3. Retire the old key once every token it signed has expired.
        time.sleep(max(0.0, ACCESS_TOKEN_TTL + 1 - (time.monotonic() - switched)))
        rolling_restart(cluster, load, JWT_PREVIOUS_PUBLIC_KEY_FILES="")
        assert kids(cluster) == {new_kid}
        assert watcher.refresh().status_code == 200
        assert verify_downstream(cluster, watcher.tokens["accessToken"])
        time.sleep(2)

    (cluster.workdir / "load-failures.txt").write_text(
        "\n".join(map(repr, load.failures))
    )
    assert load.failures == [], load.failures[:10]
    assert load.requests() > 200, load.counts
    assert load.counts.get("refresh", 0) > 20 and load.counts.get("login", 0) > 0
    assert {"host-a", "host-b"} <= set(load.served_by)
    # Every restart was graceful: no worker was killed, no request cut.
    for host in cluster.hosts.values():
        assert "WORKER TIMEOUT" not in host.logs()
        assert host.starts == 4


def test_units_verify_and_the_purge_runs_as_written(cluster, tmp_path):
    if shutil.which("systemd-analyze") is None:
        skip_or_fail("systemd-analyze not found: run `make cluster`")
    returncode, output = verify_units(tmp_path)
    assert returncode == 0 and output == "", output
    # The timer's service: each ExecStart line, on a host, against the cluster's data.
    host = cluster.hosts["b"]
    for argv in unit_exec_start("auth-server-purge.service"):
        result = subprocess.run(
            ["ip", "netns", "exec", "authc-b", *argv],
            cwd=ROOT,
            env=host.environment("auth-server-purge.service"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Deleted" in result.stdout, result.stdout
