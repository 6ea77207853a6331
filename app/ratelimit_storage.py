"""The limits' storage: Redis, and this process's memory while Redis is away.

flask-limiter's own in-memory fallback counts per process (so N workers let N times
the limit through), leaves only the thread that saw the failure on it (the threads
already waiting on Redis answer 500) and returns to Redis after a back-off of up to
32 s. `FailoverStorage` replaces it, on limits' public storage API:

- every call that fails or times out on Redis is answered from memory, so each
  thread gets a limited answer within the socket timeout;
- in memory each limit is divided by `fallback_divisor` (the workers of this host
  times RATELIMIT_FALLBACK_HOSTS), so the processes together never let more through
  than the configured limit;
- while Redis is away a background thread pings it every PROBE_INTERVAL_SECONDS,
  requests or not; once it answers, the entries taken in memory are added to Redis
  (a client does not start afresh) and the limits are counted there again.

flask-limiter reaches it by the URI `failover+redis://...` (limits' storage
registry, the documented way to add a storage).
"""

import logging
import math
import threading
import time
from collections import deque

from limits.storage import (
    MemoryStorage,
    MovingWindowSupport,
    Storage,
    storage_from_string,
)

from app.outages import OUTAGES

log = logging.getLogger(__name__)

SCHEME_PREFIX = "failover+"
# Well under the 2 s in which limits must be back on Redis once it answers.
PROBE_INTERVAL_SECONDS = 0.5
# Entries taken in memory, kept to be added to Redis when it is back.
JOURNAL_LIMIT = 100_000


def failover_uri(uri):
    """The URI under which flask-limiter builds a FailoverStorage around `uri`."""
    return SCHEME_PREFIX + uri


class FailoverStorage(Storage, MovingWindowSupport):
    """Redis (`uri` without its `failover+` prefix), or memory while it is away."""

    STORAGE_SCHEME = [
        f"{SCHEME_PREFIX}redis",
        f"{SCHEME_PREFIX}rediss",
        f"{SCHEME_PREFIX}redis+unix",
    ]

    def __init__(self, uri, wrap_exceptions=False, fallback_divisor=1, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.primary = storage_from_string(uri.removeprefix(SCHEME_PREFIX), **options)
        self.memory = MemoryStorage()
        self.divisor = max(1, int(fallback_divisor))
        self.lock = threading.Lock()
        self.up = True
        self.journal = deque(maxlen=JOURNAL_LIMIT)

    @property
    def base_exceptions(self):
        return self.primary.base_exceptions

    # -- which storage answers

    def on_primary(self, method, *args):
        """(True, result) from Redis, or (False, None) when it is away or fails."""
        if not self.up:
            return False, None
        try:
            return True, getattr(self.primary, method)(*args)
        except self.primary.base_exceptions as error:
            self.went_down(error)
            return False, None

    def went_down(self, error):
        with self.lock:
            if not self.up:
                return
            self.up = False
        OUTAGES.record("rate_limit_storage", type(error).__name__)
        # Started here, in the worker (never before gunicorn forks it).
        probe = threading.Thread(target=self.probe, name="rate-limit-probe")
        probe.daemon = True
        probe.start()

    def probe(self):
        """Ping Redis every PROBE_INTERVAL_SECONDS until it answers, then go back."""
        while True:
            time.sleep(PROBE_INTERVAL_SECONDS)
            # check(): at most the socket timeout on a hung Redis.
            if self.primary.check() and self.recover():
                return

    def recover(self):
        # What memory took is added first, so no request on Redis finds it empty;
        # what arrives meanwhile is added after the switch.
        if not self.replay():
            return False
        with self.lock:
            self.up = True
        self.replay()
        log.info(
            "rate-limit storage back",
            extra={"event": "dependency_recovered", "fields": {"kind": "rate_limit"}},
        )
        return True

    def replay(self):
        """Add the entries memory took to Redis, timed now (stricter, never weaker).

        False when Redis fails meanwhile; what is left stays for the next try. Only
        the probe thread replays, so the oldest entry is still the one it read.
        """
        now = time.time()
        while True:
            with self.lock:
                if not self.journal:
                    return True
                key, limit, expiry, amount, taken_at = self.journal[0]
            if taken_at + expiry > now:
                try:
                    self.primary.acquire_entry(key, limit, expiry, amount)
                except self.primary.base_exceptions as error:
                    self.went_down(error)
                    return False
            with self.lock:
                self.journal.popleft()

    # -- in memory, each limit divided among the processes

    def share(self, limit):
        return limit // self.divisor

    def scaled(self, count, limit):
        """A count against a share, as the same fraction of the whole limit."""
        share = self.share(limit)
        if share <= 0:
            return limit
        return min(limit, math.ceil(count * limit / share))

    # -- the moving window (app/ratelimit.py's strategy)

    def acquire_entry(self, key, limit, expiry, amount=1):
        ok, result = self.on_primary("acquire_entry", key, limit, expiry, amount)
        if ok:
            return result
        taken = self.memory.acquire_entry(key, self.share(limit), expiry, amount)
        if taken:
            with self.lock:
                self.journal.append((key, limit, expiry, amount, time.time()))
        return taken

    def get_moving_window(self, key, limit, expiry):
        ok, result = self.on_primary("get_moving_window", key, limit, expiry)
        if ok:
            return result
        start, count = self.memory.get_moving_window(key, self.share(limit), expiry)
        return start, self.scaled(count, limit)

    # -- counters (fixed windows): the count times the divisor, the same share

    def incr(self, key, expiry, amount=1):
        ok, result = self.on_primary("incr", key, expiry, amount)
        if ok:
            return result
        return self.memory.incr(key, expiry, amount) * self.divisor

    def get(self, key):
        ok, result = self.on_primary("get", key)
        if ok:
            return result
        return self.memory.get(key) * self.divisor

    def get_expiry(self, key):
        ok, result = self.on_primary("get_expiry", key)
        return result if ok else self.memory.get_expiry(key)

    def check(self):
        """Whether Redis answers (what /health reports), whatever this serves from."""
        return self.primary.check()

    def reset(self):
        self.memory.reset()
        ok, result = self.on_primary("reset")
        return result if ok else None

    def clear(self, key):
        self.memory.clear(key)
        self.on_primary("clear", key)
