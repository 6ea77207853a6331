"""Redis stopped, then hung (SIGSTOP): every thread of both workers gets a limited
answer within the socket timeout, never a 500, and together the workers let no more
wrong logins for one email through than the configured limit; back on Redis within
2 s of it answering, with what memory counted meanwhile."""

import time

import pytest

from tests.faults.client import LogWindow, call, in_parallel, new_email
from tests.faults.conftest import ACCOUNT_LIMIT, REDIS_BOUND

LOGIN = "/api/v1/auth/login"
BACK_WITHIN_SECONDS = 2
LOG_EVERY_SECONDS = 10
# gunicorn's workers take turns unevenly: a phase sends until both have served.
MAX_REQUESTS = 400


def wrong_login(server, email, ip):
    """A wrong password for `email` (None: an email of its own), from `ip`."""
    return call(
        server,
        "POST",
        LOGIN,
        ip=ip,
        json={"email": email or new_email(), "password": "not the password"},
    )


def ips(prefix, count):
    return [f"{prefix}.{number // 250}.{number % 250 + 1}" for number in range(count)]


def from_both_workers(window, calls, at_least):
    """Answers to `calls` (sent 4 at a time) until both workers served logins."""
    answers = []
    calls = iter(calls)
    while len(answers) < at_least or len(window.pids(LOGIN)) < 2:
        batch = [next(calls) for _ in range(4)]
        answers += in_parallel(batch, workers=4)
        assert len(answers) < MAX_REQUESTS, "one worker served every login"
    return answers


def keys_for(redis_client, ip):
    return list(redis_client.scan_iter(match=f"*LIMITER/ip:{ip}/*", count=1000))


@pytest.mark.parametrize("fault", ["stopped", "hung"])
def test_limits_hold_while_redis_is_away(api, redis_server, fault):
    window = LogWindow(api)
    window.mark()
    email = new_email()
    break_, mend, back_prefix = {
        "stopped": (redis_server.stop, redis_server.start, "198.19"),
        "hung": (redis_server.pause, redis_server.resume, "198.20"),
    }[fault]
    started = time.monotonic()
    break_()
    try:
        answers = from_both_workers(
            window,
            (
                lambda ip=ip, n=n: wrong_login(api, email if n % 4 == 0 else None, ip)
                for n, ip in enumerate(ips("198.18", 999))
            ),
            at_least=4 * 3 * ACCOUNT_LIMIT,
        )
        health = call(api, "GET", "/health")
    finally:
        mend()
    answered = time.monotonic()

    assert {answer.status for answer in answers} <= {401, 429}, answers
    # The first of each batch of 4 is the email's: one at a time, since a failed
    # login is counted once refused (two at once would both pass the check).
    passed = sum(answer.status == 401 for answer in answers[::4])
    assert 1 <= passed <= ACCOUNT_LIMIT, answers[::4]
    assert all(
        answer.code == "rate_limited" for answer in answers if answer.status == 429
    )
    assert max(answer.seconds for answer in answers) <= REDIS_BOUND, answers
    assert (health.status, health.code) == (503, "unavailable"), health.body
    assert health.body["details"]["checks"]["rateLimitStorage"] != "ok"

    # Within 2 s of Redis answering, every worker counts there again...
    if fault == "stopped":
        answered = time.monotonic()  # start() returned once Redis answered
    time.sleep(max(0.0, answered + BACK_WITHIN_SECONDS - time.monotonic()))
    window_back = LogWindow(api)
    window_back.mark()
    back_ips = ips(back_prefix, 999)  # of this run only: no key from another
    answers_back = from_both_workers(
        window_back,
        (lambda ip=ip: wrong_login(api, new_email(), ip) for ip in back_ips),
        at_least=8,
    )
    assert {answer.status for answer in answers_back} == {401}, answers_back
    client = redis_server.client()
    try:
        sent = back_ips[: len(answers_back)]
        assert [ip for ip in sent if not keys_for(client, ip)] == []
    finally:
        client.close()

    # ... with what memory counted: the email's limit holds across the outage.
    later = [wrong_login(api, email, ip) for ip in ips("198.21", ACCOUNT_LIMIT)]
    assert passed + sum(answer.status == 401 for answer in later) <= ACCOUNT_LIMIT

    # One line per worker for the outage, no traceback, no 5xx but /health's 503.
    allowed = (time.monotonic() - started) // LOG_EVERY_SECONDS + 1
    # (none, if an earlier test's outage was logged less than 10 s before)
    lines = window.outage_lines()
    assert {kind for _, kind in lines} <= {"rate_limit_storage"}, lines
    assert all(count <= allowed for count in lines.values()), lines
    assert any(
        kind == "rate_limit_storage" for _, kind in LogWindow(api).outage_lines()
    )
    assert "Traceback" not in window.text()
    statuses = window.request_statuses()
    assert statuses[503] == 1 and not [s for s in statuses if s >= 500 and s != 503]
