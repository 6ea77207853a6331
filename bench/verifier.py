"""The verifier package's cost: checks per second on one core, and a service's rate.

1. In one process (one core): `AuthVerifier.verify` of an access token against
   PyJWT's own `jwt.decode` of the same token with the same checks (signature,
   iss, aud, exp), alternating rounds, best of each. Goal: >= 80 % of PyJWT.
2. The downstream services of tests/downstream (Flask under gunicorn, 1 worker;
   FastAPI under uvicorn), loaded by wrk: `/me` (the verifier checks the token) vs
   `/bare` (no check) of the same service.

The auth server is stood in for by a small HTTP server in this process: the JWKS and
a signed feed listing 1,000 revoked sessions (long-polled like the real one), so the
figures are the verifier's alone. Runs alone (`.venv/bin/python bench/verifier.py`)
or as part of `make bench` (bench/run.py's `verifier` scenario).
"""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import OKPAlgorithm

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
ISSUER = "auth-server"
AUDIENCE = "auth-server"
ALGORITHM = "EdDSA"
KID = "bench-key"
REVOKED = 1000
GOAL = 0.80
ROUND_SECONDS = float(os.environ.get("BENCH_VERIFIER_ROUND", "0.5"))
ROUNDS = 8
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")


class StandIn:
    """The auth server's JWKS and revocation feed, signed with a bench key."""

    def __init__(self):
        self.key = ed25519.Ed25519PrivateKey.generate()
        jwk = OKPAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        self.jwks = {"keys": [{**jwk, "kid": KID, "alg": ALGORITHM, "use": "sig"}]}
        self.revoked = [
            {"sid": str(uuid.uuid4()), "until": int(time.time()) + 3600}
            for _ in range(REVOKED)
        ]

    def token(self, *, sid=None):
        now = int(time.time())
        claims = {
            "iss": ISSUER, "aud": AUDIENCE, "sub": str(uuid.uuid4()),
            "sid": sid or str(uuid.uuid4()), "jti": uuid.uuid4().hex, "iat": now,
            "exp": now + 3600, "role": "user", "amr": ["pwd"], "acr": "aal1",
            "auth_time": now,
        }  # fmt: skip
        headers = {"typ": "at+jwt", "kid": KID}
        return jwt.encode(claims, self.key, algorithm=ALGORITHM, headers=headers)

    def feed(self, since):
        claims = {
            "iss": ISSUER,
            "iat": int(time.time()),
            "since": since,
            "cursor": "1",
            "revoked": self.revoked if since == "0" else [],
        }
        headers = {"typ": "revocations+jwt", "kid": KID}
        return jwt.encode(claims, self.key, algorithm=ALGORITHM, headers=headers)

    def handler(self):
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (http.server's naming)
                path, _, query = self.path.partition("?")
                params = dict(part.split("=", 1) for part in query.split("&") if part)
                if path == "/.well-known/jwks.json":
                    self.answer(json.dumps(stand_in.jwks).encode(), "application/json")
                elif path == "/.well-known/revocations":
                    since = params.get("since", "0")
                    if since != "0":  # nothing new: hold as the server does
                        time.sleep(min(int(params.get("wait", "0")), 5))
                    self.answer(stand_in.feed(since).encode(), "application/jwt")
                else:
                    self.send_error(404)

            def answer(self, body, media_type):
                self.send_response(200)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)  # a stopped service's held poll

            def log_message(self, format, *args):  # noqa: A002
                pass

        return Handler


@contextmanager
def serving(stand_in):
    server = ThreadingHTTPServer(("127.0.0.1", 0), stand_in.handler())
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def rate(check, token, seconds):
    """Calls per CPU second of check(token), run for about `seconds` of CPU time.

    This thread's CPU time, not the wall clock: on a shared machine other processes
    take the core away for a while, which would count against whichever side ran.
    """
    count, began = 0, time.thread_time()
    deadline = began + seconds
    while True:
        for _ in range(100):
            check(token)
        count += 100
        now = time.thread_time()
        if now >= deadline:
            return count / (now - began)


def checks_per_second(url, stand_in):
    """(verifier rate, PyJWT rate): best of ROUNDS alternating rounds each."""
    from auth_verifier import AuthVerifier

    verifier = AuthVerifier(url, issuer=ISSUER, audience=AUDIENCE).start()
    token = stand_in.token()
    public_key = stand_in.key.public_key()
    assert verifier.verify(token)["sub"]
    assert len(verifier.revoked) == REVOKED

    def pyjwt_decode(encoded):
        return jwt.decode(
            encoded,
            public_key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["iss", "aud", "exp", "sub", "sid"]},
        )

    verified, decoded = [], []
    for _ in range(ROUNDS):
        verified.append(rate(verifier.verify, token, ROUND_SECONDS))
        decoded.append(rate(pyjwt_decode, token, ROUND_SECONDS))
    verifier.stop()
    return max(verified), max(decoded)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def service_command(name, port):
    if name == "Flask":
        return [
            sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "8",
            "--bind", f"127.0.0.1:{port}", "--no-control-socket",
            "tests.downstream.flask_service:app",
        ]  # fmt: skip
    return [
        sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--no-access-log",
        "tests.downstream.fastapi_service:app",
    ]  # fmt: skip


@contextmanager
def service(name, url, workdir):
    port = free_port()
    env = {**os.environ, "AUTH_SERVER_URL": url, "POLL_WAIT": "5"}
    log = open(workdir / f"{name}.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(  # noqa: S603 (our own command line)
        service_command(name, port),
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not answers(f"{base}/bare"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((workdir / f"{name}.log").read_text()[-2000:])
            time.sleep(0.1)
        yield base
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        process.wait(15)
        log.close()


def answers(url, token=None):
    import urllib.request

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


def wrk_rate(url, token=None):
    """(requests/s, non-2xx) of wrk on `url` for DURATION seconds."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}s", url]
    if token:
        command[1:1] = ["-H", f"Authorization: Bearer {token}"]
    output = subprocess.run(  # noqa: S603 (our own command line)
        command, capture_output=True, text=True, timeout=DURATION + 30, check=True
    ).stdout
    non2xx = WRK_NON2XX.search(output)
    return float(WRK_RATE.search(output).group(1)), int(
        non2xx.group(1) if non2xx else 0
    )


def service_rates(url, stand_in, workdir):
    """{framework: {"bare": (rate, non2xx), "verified": (rate, non2xx)}}."""
    token = stand_in.token()
    rates = {}
    for name in ("Flask", "FastAPI"):
        with service(name, url, workdir) as base:
            deadline = time.monotonic() + 10
            while not answers(f"{base}/me", token):  # the verifier has synced
                assert time.monotonic() < deadline, f"{name}: token refused"
                time.sleep(0.1)
            rates[name] = {
                "bare": wrk_rate(f"{base}/bare"),
                "verified": wrk_rate(f"{base}/me", token),
            }
    return rates


def measure(workdir, *, services=True):
    """Every figure of this benchmark (a dict for bench/run.py's report)."""
    stand_in = StandIn()
    with serving(stand_in) as url:
        verified, decoded = checks_per_second(url, stand_in)
        figures = {"verifier_rate": verified, "pyjwt_rate": decoded}
        if services:
            figures["services"] = service_rates(url, stand_in, workdir)
    return figures


def render(figures):
    """Markdown lines: the checks table and, when measured, the services table."""
    share = figures["verifier_rate"] / figures["pyjwt_rate"]
    verdict = "ok" if share >= GOAL else "**missed**"
    lines = [
        f"### Verifier package (auth_verifier, {ALGORITHM}, {REVOKED} revoked "
        "sessions)",
        "",
        "| measure | checks per CPU second (one core) | ratio | goal | |",
        "| --- | ---: | --- | --- | --- |",
        f"| PyJWT `jwt.decode` (reference) | {figures['pyjwt_rate']:,.0f} | | | |",
        f"| `AuthVerifier.verify` | {figures['verifier_rate']:,.0f} | {share:.0%} "
        f"of PyJWT | ≥ {GOAL:.0%} | {verdict} |",
        "",
    ]
    if "services" in figures:
        lines += [
            "| downstream service | bare req/s | with the verifier req/s | ratio | "
            "non-2xx |",
            "| --- | ---: | ---: | --- | ---: |",
        ]
        for name, rates in figures["services"].items():
            (bare, bare_bad), (verified, verified_bad) = (
                rates["bare"],
                rates["verified"],
            )
            lines.append(
                f"| {name} | {bare:,.0f} | {verified:,.0f} | {verified / bare:.0%} "
                f"of bare | {bare_bad + verified_bad} |"
            )
        lines += [
            "",
            f"wrk, 1 thread, {CONNECTIONS} connections, {DURATION} s each; Flask "
            "under gunicorn (1 worker × 8 threads), FastAPI under uvicorn (1 process).",
            "",
        ]
    return lines


def main():
    import tempfile

    with tempfile.TemporaryDirectory(prefix="auth-bench-verifier-") as workdir:
        services = "--checks-only" not in sys.argv
        figures = measure(Path(workdir), services=services)
    print("\n".join(render(figures)))


if __name__ == "__main__":
    main()
