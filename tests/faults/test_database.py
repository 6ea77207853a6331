"""PostgreSQL stopped, then hung (SIGSTOP): 503 `unavailable` with Retry-After within
the bound, one log line per kind, never a 500; back without a restart, and nothing
lost (sessions, refresh chains, mail)."""

import math
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from app.outages import QueryWatchdog
from tests.faults.client import (
    PASSWORD,
    LogWindow,
    call,
    in_parallel,
    new_email,
    refresh,
    register,
)
from tests.faults.conftest import DATABASE_BOUND

ME = "/api/v1/users/me"
LOGIN = "/api/v1/auth/login"
RESET = "/api/v1/auth/password/reset"
# The sender logs one line per period, as the workers do.
LOG_EVERY_SECONDS = 10
OUTAGE_ROUNDS = 3
RECOVERY_TIMEOUT = 15
MAIL_TIMEOUT = 30


def outage_requests(server, accounts):
    """What clients keep sending: checks, logins, refreshes, reset requests."""
    calls = []
    for account in accounts:
        calls.append(lambda a=account: call(server, "GET", ME, headers=a.headers))
        calls.append(lambda a=account: refresh(server, a))
    for _ in range(3):
        body = {"email": new_email(), "password": PASSWORD}
        calls.append(lambda b=body: call(server, "POST", LOGIN, json=b))
        calls.append(lambda: call(server, "POST", RESET, json={"email": new_email()}))
    return calls


def assert_unavailable(answers):
    for answer in answers:
        assert (answer.status, answer.code) == (503, "unavailable"), answers
        assert answer.retry_after and int(answer.retry_after) >= 1, answers
        assert answer.seconds <= DATABASE_BOUND, answers


def wait_until_serving(server, account):
    deadline = time.monotonic() + RECOVERY_TIMEOUT
    while True:
        answer = call(server, "GET", ME, headers=account.headers)
        if answer.status == 200:
            return
        assert answer.status == 503, answer.body
        assert time.monotonic() < deadline, f"not back in {RECOVERY_TIMEOUT}s"
        time.sleep(0.2)


def request_reset(server, email):
    answer = call(server, "POST", RESET, json={"email": email})
    assert answer.status == 202, answer.body


def assert_everything_back(server, accounts, smtp_server):
    """Sessions and refresh chains work on every worker; every mail is delivered
    (the reset asked for by accounts[1] just before the outage, and a new one)."""
    wait_until_serving(server, accounts[0])
    for answer in in_parallel(
        [lambda a=a: call(server, "GET", ME, headers=a.headers) for a in accounts * 4]
    ):
        assert answer.status == 200, answer.body
    for account in accounts:
        for _ in range(2):  # the chain from before the outage goes on
            answer = refresh(server, account)
            assert answer.status == 200, answer.body
    request_reset(server, accounts[0].email)
    deadline = time.monotonic() + MAIL_TIMEOUT
    for email in (accounts[0].email, accounts[1].email):
        while not any(email in mail.rcpt_tos for mail in smtp_server.sink.received):
            assert time.monotonic() < deadline, f"no reset mail to {email}"
            time.sleep(0.2)


def assert_logged_once_per_kind(window, seconds):
    # Per worker: one line per kind and period; the first of a period comes at once.
    allowed = math.ceil(seconds / LOG_EVERY_SECONDS) + 1
    # (none of a kind an earlier test logged less than 10 s before)
    lines = window.outage_lines()
    assert any(
        kind == "database" for _, kind in LogWindow(window.server).outage_lines()
    )
    assert {kind for _, kind in lines} <= {"database", "database_deadline"}, lines
    assert all(count <= allowed for count in lines.values()), lines
    assert "Traceback" not in window.text()
    statuses = window.request_statuses()
    assert not [s for s in statuses if s >= 500 and s != 503], statuses


def run_outage(server, accounts):
    answers = []
    for _ in range(OUTAGE_ROUNDS):
        answers += in_parallel(outage_requests(server, accounts))
    health = call(server, "GET", "/health")
    assert (health.status, health.code) == (503, "unavailable"), health.body
    assert health.body["details"]["checks"]["database"] != "ok"
    assert health.seconds < 3
    return answers


@pytest.mark.parametrize("fault", ["stopped", "hung"])
def test_database_away_is_503_within_the_bound_then_back(
    api, postgres, smtp_server, fault
):
    break_, mend = {
        "stopped": (postgres.stop, postgres.start),
        "hung": (postgres.pause, postgres.resume),
    }[fault]
    accounts = [register(api) for _ in range(3)]
    # Warm every worker's pool: the outage meets pooled connections too.
    in_parallel(
        [lambda a=a: call(api, "GET", ME, headers=a.headers) for a in accounts * 4]
    )
    window = LogWindow(api)
    window.mark()
    request_reset(api, accounts[1].email)  # its mail may be in flight meanwhile
    started = time.monotonic()
    break_()
    try:
        assert_unavailable(run_outage(api, accounts))
    finally:
        mend()
    assert_logged_once_per_kind(window, time.monotonic() - started)
    assert_everything_back(api, accounts, smtp_server)


@pytest.fixture
def engine(postgres):
    """An engine with the app's client-side deadlines: 1 s calls, 0.5 s checks."""
    engine = create_engine(postgres.url, connect_args={"connect_timeout": 2})
    QueryWatchdog(1.0, 0.5).attach(engine)
    yield engine
    engine.dispose()


def timed(fn):
    started = time.monotonic()
    with pytest.raises(OperationalError) as raised:
        fn()
    return time.monotonic() - started, raised.value


def test_the_watchdog_cuts_every_call_a_hung_server_blocks(engine, postgres):
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))  # one pooled connection
    held = engine.connect()
    held.execute(text("SELECT 1"))  # a transaction open on a second one
    postgres.pause()
    try:
        # A COMMIT blocked on the hung server: cut at its deadline.
        seconds, error = timed(held.commit)
        assert seconds < 1.0 + 1.5 and error.connection_invalidated
        held.close()
        # The pooled connection's check is cut, a new one is tried: connect timeout.
        seconds, _ = timed(lambda: engine.connect().execute(text("SELECT 1")))
        assert seconds < 0.5 + 2 + 1.5
    finally:
        postgres.resume()
    # Cut connections were discarded: the pool works on at once.
    for _ in range(3):
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    with engine.connect() as connection:
        postgres.pause()
        try:
            # A query blocked on the hung server: cut at its deadline.
            seconds, error = timed(lambda: connection.execute(text("SELECT 2")))
            assert seconds < 1.0 + 1.5 and error.connection_invalidated
        finally:
            postgres.resume()
    assert engine.pool.checkedout() == 0
