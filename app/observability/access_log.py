"""One JSON log line per request: id, method, path, status, duration, user."""

import logging
import time

from flask import g, request, request_finished, request_started
from sqlalchemy import inspect

from app.http import client_ip, user_agent

log = logging.getLogger("app.request")


def current_user_id():
    """The authenticated user's id, read without a query (the row may be expired)."""
    user = g.get("current_user")
    if user is None:
        return None
    identity = inspect(user).identity
    return str(identity[0]) if identity else None


def _on_request_started(sender, **extra):
    g._access_log_started = time.perf_counter()


def _on_request_finished(sender, response, **extra):
    started = g.pop("_access_log_started", None)
    # The path only: a query string may carry a token (a pasted reset link), and
    # headers and cookies are never logged.
    fields = {
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": (
            round((time.perf_counter() - started) * 1000, 2)
            if started is not None
            else None
        ),
        "user_id": current_user_id(),
        "ip": client_ip(),
        "user_agent": user_agent()[:256],
    }
    log.info("request", extra={"event": "request", "fields": fields})


def register_access_log(app):
    """Log every request once it is answered (errors and 429 included)."""
    request_started.connect(_on_request_started, app)
    request_finished.connect(_on_request_finished, app)
