"""Mail is never lost, under a real gunicorn: a worker SIGKILLed in the middle of a
delivery, and an SMTP server down for a minute. Every mail arrives, once per
Message-ID. Slow (live servers, a minute of outage): `make e2e` runs them.
"""

import os
import re
import signal
import socket
import time
import uuid
from collections import Counter

import requests
from aiosmtpd.controller import Controller

from tests.mailserver import Sink
from tests.servers import free_port, run_gunicorn

PASSWORD = "correct horse battery staple"
BEARER = {"X-Auth-Mode": "bearer"}
WORKER_PID = re.compile(r"Booting worker with pid: (\d+)")
OUTAGE_SECONDS = 60
ARRIVAL_TIMEOUT = 40


def mail_env(port, **changes):
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_RETRY_BACKOFF_MS": 200,
        "MAIL_RETRY_MAX_DELAY": 2,
        "MAIL_POLL_INTERVAL": 0.5,
        **changes,
    }


def register(server, count):
    """`count` new accounts: [(email, access token)]."""
    accounts = []
    for _ in range(count):
        email = f"ada-{uuid.uuid4().hex[:10]}@example.com"
        response = requests.post(
            f"{server.url}/api/v1/auth/register",
            json={"name": "Ada", "email": email, "password": PASSWORD},
            headers=BEARER,
            timeout=10,
        )
        assert response.status_code == 201, response.text
        accounts.append((email, response.json()["data"]["accessToken"]))
    return accounts


def request_reset(server, email):
    response = requests.post(
        f"{server.url}/api/v1/auth/password/reset", json={"email": email}, timeout=10
    )
    assert response.status_code == 202, response.text


def request_verification(server, access_token):
    response = requests.post(
        f"{server.url}/api/v1/auth/email/verify/request",
        headers={**BEARER, "Authorization": f"Bearer {access_token}"},
        timeout=10,
    )
    assert response.status_code == 202, response.text


def start_smtp(sink, port):
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def wait_for_mails(sink, count, timeout=ARRIVAL_TIMEOUT):
    deadline = time.monotonic() + timeout
    while len(sink.received) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(sink.received) >= count, f"{len(sink.received)} of {count} mails"
    time.sleep(2)  # a duplicate would arrive about now
    return list(sink.received)


def assert_each_once(received, expected):
    """Every (recipient, subject) expected arrived, each Message-ID exactly once."""
    assert Counter((m.rcpt_tos[0], m.subject) for m in received) == Counter(expected)
    assert max(Counter(m.message_id for m in received).values()) == 1


def test_a_worker_sigkilled_mid_delivery_loses_no_mail(tmp_path):
    port = free_port()
    # Accepts connections, never greets: the sender hangs in its first delivery.
    silent = socket.create_server(("127.0.0.1", port), backlog=64)
    env = mail_env(port, MAIL_TIMEOUT=30, MAIL_LEASE_SECONDS=5)
    sink = Sink()
    controller = None
    try:
        with run_gunicorn(tmp_path, workers=1, env=env) as server:
            accounts = register(server, 20)
            for email, _ in accounts:
                request_reset(server, email)
            silent.settimeout(10)
            hanging, _ = silent.accept()  # the worker's sender, mid-delivery
            [worker] = WORKER_PID.findall(server.output())
            os.kill(int(worker), signal.SIGKILL)
            deadline = time.monotonic() + 30
            while len(WORKER_PID.findall(server.output())) < 2:
                assert time.monotonic() < deadline, "no new worker booted"
                time.sleep(0.1)
            hanging.close()
            silent.close()
            controller = start_smtp(sink, port)
            # Registration mails its verification link too.
            received = wait_for_mails(sink, 2 * len(accounts))
    finally:
        silent.close()
        if controller is not None:
            controller.stop()
    assert_each_once(
        received,
        [
            (email, subject)
            for email, _ in accounts
            for subject in ("Reset your password", "Confirm your email address")
        ],
    )


def test_an_smtp_outage_of_a_minute_loses_no_mail(tmp_path):
    port = free_port()
    sink = Sink()
    controller = start_smtp(sink, port)
    try:
        with run_gunicorn(tmp_path, workers=2, env=mail_env(port)) as server:
            accounts = register(server, 10)
            request_reset(server, accounts[0][0])
            # Registration mails its verification link too.
            expected = [(email, "Confirm your email address") for email, _ in accounts]
            expected.append((accounts[0][0], "Reset your password"))
            delivered_before = len(expected)
            wait_for_mails(sink, delivered_before)

            controller.stop()
            controller = None
            down_since = time.monotonic()
            for email, access_token in accounts:
                request_reset(server, email)
                request_verification(server, access_token)
                expected += [
                    (email, "Reset your password"),
                    (email, "Confirm your email address"),
                ]
            time.sleep(max(0, OUTAGE_SECONDS - (time.monotonic() - down_since)))
            assert len(sink.received) == delivered_before

            controller = start_smtp(sink, port)
            received = wait_for_mails(sink, len(expected))
            deferred = [
                line
                for line in server.json_lines()
                if line.get("event") == "mail_deferred"
            ]
    finally:
        if controller is not None:
            controller.stop()
    assert_each_once(received, expected)
    assert deferred, "the outage caused no retry"
    assert {line["pid"] for line in deferred} <= set(
        map(int, WORKER_PID.findall(server.output()))
    )
