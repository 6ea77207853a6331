"""Development mock mode (DEV_MOCK): simulated failures and delays, demo users.

In development with DEV_MOCK=true a request may ask for a failure or a delay, so a
client's error handling can be tried against this server:

- `X-Simulate-Status: 500|503|429`: answered with that error (in the blueprint's
  error shape) before the view runs; nothing is read or written.
- `X-Simulate-Delay-Ms: 0..5000`: the answer waits that long first.

Anywhere else the headers are ignored, and the first one a process sees is logged.
The named demo users are seeded at start (app/users/admin.py `seed_demo_accounts`).
"""

import logging
import re
import threading
import time

from flask import current_app, request
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from app.compat import dev_mock_on
from app.errors import ApiError, ValidationFailed, error_response
from app.extensions import db
from app.models import User

log = logging.getLogger(__name__)

STATUS_HEADER = "X-Simulate-Status"
DELAY_HEADER = "X-Simulate-Delay-Ms"
MAX_DELAY_MS = 5000
SIMULATED = {
    500: ("internal_error", "Simulated failure (X-Simulate-Status: 500)."),
    503: ("unavailable", "Simulated outage (X-Simulate-Status: 503)."),
    429: ("rate_limited", "Simulated rate limit (X-Simulate-Status: 429)."),
}
IGNORED_LOGGED = "dev_mock.ignored_logged"
IGNORED_LOCK = threading.Lock()
# ASCII digits only: str.isdigit() also takes other scripts' digits.
WHOLE_NUMBER = re.compile(r"[0-9]{1,5}")


def simulated_status():
    raw = request.headers.get(STATUS_HEADER)
    if raw is None:
        return None
    value = raw.strip()
    if not WHOLE_NUMBER.fullmatch(value) or int(value) not in SIMULATED:
        raise ValidationFailed(details={STATUS_HEADER: ["Must be 500, 503 or 429."]})
    return int(value)


def simulated_delay_ms():
    raw = request.headers.get(DELAY_HEADER)
    if raw is None:
        return 0
    value = raw.strip()
    if not WHOLE_NUMBER.fullmatch(value) or int(value) > MAX_DELAY_MS:
        raise ValidationFailed(
            details={
                DELAY_HEADER: [f"Must be a whole number from 0 to {MAX_DELAY_MS}."]
            }
        )
    return int(value)


def simulate():
    """before_request: the simulated delay and failure of this request, if asked."""
    try:
        status, delay = simulated_status(), simulated_delay_ms()
    except ApiError as error:
        return error_response(error.status, error.code, error.message, error.details)
    if delay:
        time.sleep(delay / 1000)
    if status is None:
        return None
    code, message = SIMULATED[status]
    headers = {"Retry-After": "1"} if status in (429, 503) else None
    return error_response(status, code, message, headers=headers)


def log_ignored_once():
    """before_request outside dev mock: say once per process that they are ignored."""
    if STATUS_HEADER not in request.headers and DELAY_HEADER not in request.headers:
        return
    extensions = current_app.extensions
    with IGNORED_LOCK:
        if extensions.get(IGNORED_LOGGED):
            return
        extensions[IGNORED_LOGGED] = True
    log.warning(
        "%s / %s ignored: simulated failures need APP_ENV=development and "
        "DEV_MOCK=true (logged once per process)",
        STATUS_HEADER,
        DELAY_HEADER,
    )


def seed_mock_users(app):
    """The named demo users, at start, once the database has its tables."""
    from app.users.admin import seed_demo_accounts

    with app.app_context():
        if not inspect(db.engine).has_table(User.__tablename__):
            return  # `flask db upgrade` itself runs before the tables exist
        try:
            seed_demo_accounts(count=1)
        except (ApiError, SQLAlchemyError) as error:
            # Another worker seeded the same user at the same moment (or held the
            # SQLite write lock past the timeout): its seeding stands.
            db.session.rollback()
            log.warning("demo users not seeded by this process: %s", error)
        finally:
            db.session.remove()


def register_dev_mock(app):
    if dev_mock_on(app.config):
        app.before_request(simulate)
        seed_mock_users(app)
    else:
        app.before_request(log_ignored_once)
