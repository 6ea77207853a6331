"""BCRYPT_CONCURRENCY: how many bcrypt hashes one process runs at once."""

import os
import threading
import time

import bcrypt
import pytest

from app.auth import passwords
from config import load_config
from tests.conftest import PASSWORD
from tests.urls import LOGIN


def most_at_once(app, monkeypatch, calls=6):
    """Run `calls` password checks from as many threads; the peak of parallel hashes."""
    active = peak = 0
    lock = threading.Lock()

    def slow_checkpw(password, hashed):
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1
        return True

    monkeypatch.setattr(bcrypt, "checkpw", slow_checkpw)
    stored = passwords.hash_password("a fine pass phrase", 4)

    def check():
        with app.app_context():
            assert passwords.verify_password("a fine pass phrase", stored)

    threads = [threading.Thread(target=check) for _ in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return peak


@pytest.mark.config(BCRYPT_CONCURRENCY=1)
def test_one_slot_runs_one_hash_at_a_time(app, monkeypatch):
    assert most_at_once(app, monkeypatch) == 1


@pytest.mark.config(BCRYPT_CONCURRENCY=3)
def test_three_slots_run_three_hashes_at_once(app, monkeypatch):
    assert most_at_once(app, monkeypatch) == 3


@pytest.mark.config(BCRYPT_CONCURRENCY=0)
def test_zero_means_no_bound(app, monkeypatch):
    assert most_at_once(app, monkeypatch) == 6


def test_default_is_the_workers_share_of_the_cores(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    monkeypatch.delenv("BCRYPT_CONCURRENCY", raising=False)
    cores = os.cpu_count() or 1
    assert load_config({"APP_ENV": "testing"})["BCRYPT_CONCURRENCY"] == cores
    monkeypatch.setenv("WEB_CONCURRENCY", str(cores * 4))
    assert load_config({"APP_ENV": "testing"})["BCRYPT_CONCURRENCY"] == 1


def test_wrong_password_still_false_with_slots(auth, client):
    caller = auth.register()
    response = client.post(
        LOGIN,
        json={"email": caller.user["email"], "password": "not the password at all"},
    )
    assert response.status_code == 401


@pytest.mark.config(BCRYPT_CONCURRENCY=1, BCRYPT_MAX_WAITING=1, BCRYPT_MAX_WAIT_MS=5000)
def test_logins_past_the_waiting_bound_are_a_fast_503(app, make_user, monkeypatch):
    """One hashing, one waiting; the others are told to come back, not queued."""
    email = make_user().email
    release = threading.Event()
    real_checkpw = bcrypt.checkpw

    def held_checkpw(password, hashed):
        release.wait(5)
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", held_checkpw)
    answers = []

    def login():
        response = app.test_client().post(
            LOGIN,
            json={"email": email, "password": PASSWORD},
            headers={"X-Auth-Mode": "bearer"},
        )
        answers.append((response.status_code, response.get_json()["success"], response))

    threads = [threading.Thread(target=login) for _ in range(4)]
    for thread in threads[:2]:
        thread.start()
    time.sleep(0.3)  # one hashing, one waiting: the next two find no seat
    for thread in threads[2:]:
        thread.start()
        thread.join(5)
    release.set()
    for thread in threads[:2]:
        thread.join(10)
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [200, 200, 503, 503], statuses
    for status, _, response in answers:
        if status == 503:
            assert response.get_json()["code"] == "busy"
            assert response.headers["Retry-After"] == "1"


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="nice is POSIX")
@pytest.mark.config(BCRYPT_CONCURRENCY=1, BCRYPT_NICE=7)
def test_hashes_run_below_the_request_threads_cpu_priority(app, monkeypatch):
    seen = {}
    real_checkpw = bcrypt.checkpw

    def observed_checkpw(password, hashed):
        me = threading.get_native_id()
        seen["thread"] = me
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, me)
        return real_checkpw(password, hashed)

    stored = passwords.hash_password("a fine pass phrase", 4)
    monkeypatch.setattr(bcrypt, "checkpw", observed_checkpw)
    with app.app_context():
        assert passwords.verify_password("a fine pass phrase", stored)
        assert not passwords.verify_password("another pass phrase", stored)
    request_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert seen["thread"] != threading.get_native_id()
    assert seen["nice"] == min(19, request_nice + 7)
