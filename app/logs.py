"""Logging: one JSON object per line on stdout, each tagged with the request id.

JSON escapes CR/LF and every control character, so logged input (a path, a
User-Agent) can never start a forged line. Secrets stay out by construction (request
lines carry no headers, cookies or query strings; events carry no secret fields);
the formatter also masks anything shaped like a JWT and any field named like a
secret, as a second line of defence.
"""

import json
import logging
import os
import re
import sys
from datetime import UTC, datetime
from functools import lru_cache

from flask import g, has_app_context

# header.payload.signature of a JWT (both JSON parts start with `{"` = `eyJ`).
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
SECRET_FIELD = re.compile(r"password|token|secret|authorization|cookie", re.IGNORECASE)
REDACTED = "[redacted]"
# Attributes every LogRecord has; anything else came in through `extra=`.
RECORD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
BASE_KEYS = ("ts", "level", "logger", "message", "request_id", "pid")


def current_request_id():
    """The request id of the running request, "-" outside one."""
    if has_app_context():
        return g.get("request_id") or "-"
    return "-"


@lru_cache(maxsize=512)
def secret_named(key):
    return SECRET_FIELD.search(key) is not None


def scrub(value):
    """A log value with secrets masked (JWT-shaped strings, secret-named keys)."""
    if isinstance(value, str):
        # Every JWT match starts with "eyJ": most values skip the regex (per request).
        return JWT_PATTERN.sub(REDACTED, value) if "eyJ" in value else value
    if isinstance(value, dict):
        return {
            str(key): REDACTED if secret_named(str(key)) else scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set):
        return [scrub(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub(str(value))


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line: ts, level, logger, message, request_id..."""

    def format(self, record):
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
            "pid": record.process or os.getpid(),
        }
        extra = {
            key: value
            for key, value in vars(record).items()
            if key not in RECORD_ATTRIBUTES and key not in BASE_KEYS
        }
        # `fields` (security events, request lines) become top-level keys.
        fields = extra.pop("fields", None)
        if isinstance(fields, dict):
            extra = {**fields, **extra}
        for key, value in extra.items():
            if key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(scrub(entry), ensure_ascii=True, default=str)


class StdoutHandler(logging.StreamHandler):
    """A handler on whatever `sys.stdout` is now (so test capture sees it too)."""

    _auth_server = True

    def __init__(self):
        super().__init__(sys.stdout)

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value):
        pass


def setup_logging(app):
    """Send every log record to stdout as JSON, once per process."""
    root = logging.getLogger()
    if not any(getattr(h, "_auth_server", False) for h in root.handlers):
        handler = StdoutHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
