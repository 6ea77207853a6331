"""`GET /health`: the database and the rate-limit storage, each under a deadline.

Each check runs in a daemon thread and the answer waits at most
`HEALTH_CHECK_TIMEOUT_MS` for all of them: a hung PostgreSQL or Redis gives a 503
naming it, not a hung health check. A check still stuck from an earlier call is not
started again (it reports `timeout` at once), so a dead dependency cannot pile up
threads.
"""

import threading
import time

from flask import current_app
from sqlalchemy import text

from app.database import read_connection
from app.errors import ServiceUnavailable
from app.extensions import db
from app.openapi.declare import operation, response
from app.openapi.examples import example
from app.schemas.base import camelcase
from app.schemas.health import HealthChecksSchema, HealthSchema

OK = "ok"
ERROR = "error"
TIMEOUT = "timeout"
DISABLED = "disabled"

# (app id, check name) -> the thread of a check still running.
_running = {}
_running_lock = threading.Lock()


def database_probe():
    """A callable that runs `SELECT 1` on the app's engine (no app context needed)."""
    engine = db.engine

    def probe():
        # A read connection: on SQLite the probe never waits for the write lock.
        with read_connection(engine) as connection:
            connection.execute(text("SELECT 1"))
        return OK

    return probe


def rate_limit_probe():
    """A callable that asks flask-limiter's storage `check()`; None when limits are off.

    flask-limiter registers itself in `app.extensions["limiter"]` (a set of limiters)
    only when RATELIMIT_ENABLED is on; the app's own config says whether it is.
    """
    limiters = current_app.extensions.get("limiter", ())
    if not current_app.config.get("RATELIMIT_ENABLED") or not limiters:
        return None
    storages = [limiter.storage for limiter in limiters]

    def probe():
        return OK if all(storage.check() for storage in storages) else ERROR

    return probe


class Check:
    """One probe running in its own daemon thread."""

    def __init__(self, key, probe):
        self.key = key
        self.probe = probe
        self.result = None
        self.thread = threading.Thread(
            target=self._run, name=f"health-{key[1]}", daemon=True
        )

    def _run(self):
        try:
            self.result = self.probe()
        except Exception:  # noqa: BLE001  (a failing dependency is an answer here)
            self.result = ERROR
        finally:
            with _running_lock:
                if _running.get(self.key) is self:
                    del _running[self.key]


def start_check(key, probe):
    """Start a check, or None when the same check is still stuck from before."""
    with _running_lock:
        if key in _running:
            return None
        check = _running[key] = Check(key, probe)
    check.thread.start()
    return check


def run_checks(probes, timeout):
    """Run the probes in parallel; each result is ok, error, timeout or disabled."""
    app_id = id(current_app._get_current_object())
    results = {}
    started = {}
    for name, probe in probes.items():
        if probe is None:
            results[name] = DISABLED
            continue
        check = start_check((app_id, name), probe)
        if check is None:
            results[name] = TIMEOUT
        else:
            started[name] = check
    deadline = time.monotonic() + timeout
    for name, check in started.items():
        check.thread.join(max(0.0, deadline - time.monotonic()))
        results[name] = check.result if check.result is not None else TIMEOUT
    return results


@operation(tag="operations", errors={503: ["unavailable"]})
@response(
    HealthSchema,
    examples={
        "ok": example(
            "Healthy",
            {"status": "ok", "checks": {"database": "ok", "rateLimitStorage": "ok"}},
        )
    },
)
def health():
    """Health of the service and its dependencies.

    Each dependency is checked under `HEALTH_CHECK_TIMEOUT_MS`; `disabled` is a
    check that does not apply (rate limits off). 503 `unavailable` names the
    failing check in `details`.
    """
    checks = run_checks(
        {"database": database_probe(), "rate_limit_storage": rate_limit_probe()},
        current_app.config["HEALTH_CHECK_TIMEOUT_MS"] / 1000,
    )
    failing = [name for name, result in checks.items() if result in {ERROR, TIMEOUT}]
    if failing:
        raise ServiceUnavailable(
            f"Unavailable: {', '.join(camelcase(name) for name in failing)}.",
            details={
                "status": "unavailable",
                "checks": HealthChecksSchema().dump(checks),
            },
        )
    return {"status": "ok", "checks": checks}
