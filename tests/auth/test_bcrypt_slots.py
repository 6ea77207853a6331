"""BCRYPT_CONCURRENCY: how many bcrypt hashes one process runs at once."""

import os
import threading
import time

import bcrypt
import pytest

from app.auth import passwords
from config import load_config


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
        "/api/v1/auth/login",
        json={"email": caller.user["email"], "password": "not the password at all"},
    )
    assert response.status_code == 401
