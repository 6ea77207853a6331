"""Password policy and hashing: NFKC, HMAC-SHA256 pre-hash, bcrypt."""

import base64
import gzip
import hashlib
import hmac
import os
import re
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path

import bcrypt
from flask import current_app, has_app_context

from app.errors import ServerBusy, ValidationFailed
from app.schemas.auth import NEW_PASSWORD_LENGTH

MIN_LENGTH = NEW_PASSWORD_LENGTH.min
MAX_LENGTH = NEW_PASSWORD_LENGTH.max
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt.gz"
# bcrypt reads at most 72 bytes (and bcrypt 5 raises past them). Every password is first
# reduced to a 44-byte base64 HMAC-SHA256, so nothing is truncated and no input raises.
# The key only separates this use of SHA-256; it is not a secret pepper, so rotating
# SECRET_KEY never locks anyone out.
PREHASH_KEY = b"auth-server/password-prehash/v1"
BCRYPT_COST = re.compile(r"^\$2[aby]\$(\d{2})\$")


def normalize(password):
    return unicodedata.normalize("NFKC", password)


@lru_cache(maxsize=1)
def common_passwords():
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip().lower() for line in lines if line.strip())


def policy_errors(password, *, email=None):
    """Why a new password is refused (an empty list when it is acceptable).

    The length counts the password as sent, as the schemas and the OpenAPI document
    say: its NFKC form can be longer or shorter, which no client could check.
    """
    if len(password) < MIN_LENGTH:
        return [f"Must be at least {MIN_LENGTH} characters."]
    if len(password) > MAX_LENGTH:
        return [f"Must be at most {MAX_LENGTH} characters."]
    text = normalize(password)
    if text.lower() in common_passwords():
        return ["This password is too common."]
    if email and text.strip().lower() == email.strip().lower():
        return ["The password must not be the same as the email."]
    return []


def check_policy(password, *, email=None, field="password"):
    """Raise 400 validation_error naming `field` when the password breaks the policy."""
    errors = policy_errors(password, email=email)
    if errors:
        raise ValidationFailed(details={field: errors})


class BcryptGate:
    """At most `concurrency` bcrypt hashes at once per process, `max_waiting` queued.

    bcrypt releases the GIL, so threads hash in parallel; but more hashes at once than
    cores only make each one slower and crowd the CPU, so that a login flood starves
    cheap requests. The hashes run on a pool of `concurrency` threads of their own,
    `nice` steps below the request threads' CPU priority: a request thread that wakes
    takes a core from a hash at once instead of waiting out the scheduler's slices
    (a login flood keeps every core busy). Waiting logins sleep here instead of
    competing, and past `max_waiting` waiters (or `wait_seconds` of waiting) a login
    is a fast 503 busy, so that the waiting never takes every thread of the worker.
    """

    def __init__(self, *, concurrency, max_waiting, wait_seconds, nice=0):
        self.concurrency = concurrency
        self.semaphore = (
            threading.BoundedSemaphore(concurrency) if concurrency else None
        )
        self.max_waiting = max_waiting
        self.wait_seconds = wait_seconds
        self.nice = nice
        self.waiting = 0
        self.lock = threading.Lock()

    def run(self, work):
        """`work()` on a hashing thread, once a seat is free; its result or error."""
        if not self.semaphore:
            return work()
        with self.seat():
            # A seat each: a pool thread is always free for the one seated.
            return hashing_pool(self.concurrency, self.nice).submit(work).result()

    @contextmanager
    def seat(self):
        with self.lock:
            if self.waiting >= self.max_waiting:
                raise ServerBusy()
            self.waiting += 1
        try:
            seated = self.semaphore.acquire(timeout=self.wait_seconds)
        finally:
            with self.lock:
                self.waiting -= 1
        if not seated:
            raise ServerBusy()
        try:
            yield
        finally:
            self.semaphore.release()


# (process id, threads, nice) -> its pool: one per process and setting, not per app,
# so that the many apps of a test run share their idle threads; a forked worker
# makes its own (the parent's threads do not exist in it).
_pools = {}
_pools_lock = threading.Lock()


def hashing_pool(threads, nice):
    key = (os.getpid(), threads, nice)
    pool = _pools.get(key)
    if pool is None:
        with _pools_lock:
            pool = _pools.get(key)
            if pool is None:
                pool = ThreadPoolExecutor(
                    max_workers=threads,
                    thread_name_prefix="bcrypt",
                    initializer=lower_thread_priority,
                    initargs=(nice,),
                )
                _pools[key] = pool
    return pool


def lower_thread_priority(steps):
    """This thread's nice value raised by `steps` (Linux: nice is per thread)."""
    if not steps or not hasattr(os, "setpriority"):
        return
    thread = threading.get_native_id()
    with suppress(OSError):
        current = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, current + steps))


def bcrypt_gate_for(config):
    return BcryptGate(
        concurrency=config["BCRYPT_CONCURRENCY"],
        max_waiting=config["BCRYPT_MAX_WAITING"],
        wait_seconds=config["BCRYPT_MAX_WAIT_MS"] / 1000,
        nice=config["BCRYPT_NICE"],
    )


def register_bcrypt_gate(app):
    """One gate per app (so per gunicorn worker process)."""
    app.extensions["bcrypt_gate"] = bcrypt_gate_for(app.config)


def run_bcrypt(work):
    """`work()` in a seat among the hashes this process runs (inline outside an app)."""
    if not has_app_context():
        return work()
    return current_app.extensions["bcrypt_gate"].run(work)


def _prehash(password):
    digest = hmac.new(PREHASH_KEY, normalize(password).encode("utf-8"), hashlib.sha256)
    return base64.b64encode(digest.digest())


def hash_password(password, rounds):
    """A bcrypt hash of the normalised, pre-hashed password."""
    prehashed = _prehash(password)
    salt = bcrypt.gensalt(rounds)
    return run_bcrypt(lambda: bcrypt.hashpw(prehashed, salt)).decode("ascii")


def verify_password(password, password_hash):
    """True when the password matches; never raises on odd input."""
    prehashed = _prehash(password)
    try:
        encoded = password_hash.encode("ascii")
        return run_bcrypt(lambda: bcrypt.checkpw(prehashed, encoded))
    except ValueError:
        return False


def needs_rehash(password_hash, rounds):
    match = BCRYPT_COST.match(password_hash or "")
    return not match or int(match.group(1)) != rounds


@lru_cache(maxsize=8)
def _dummy_hash(rounds):
    return hash_password("dummy password for timing", rounds)


def burn_verify_time(password, rounds):
    """Spend one bcrypt check, so an unknown email costs what a wrong password costs."""
    verify_password(password, _dummy_hash(rounds))
