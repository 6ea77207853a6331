"""Dependency outages: 503 `unavailable` with Retry-After, fast, one log line a kind.

A stopped or hung PostgreSQL must not turn into 500s with a traceback per request, nor
into requests that hang as long as the database does: connection and pool waits are
bounded by the engine options (config.py), and a running query by the watchdog here,
which cuts the connection of a query that overran DB_QUERY_TIMEOUT_MS (a hung server
enforces no timeout of its own, and loopback TCP keeps acknowledging).
"""

import logging
import os
import socket
import threading
import time
from contextlib import suppress

from sqlalchemy import event
from sqlalchemy import exc as sa_exc

from app.errors import ServiceUnavailable, from_api_error, handle_unexpected

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 2
# A kind of failure is logged once, then again only after this quiet period (with
# the count of what was not logged).
LOG_EVERY_SECONDS = 10.0
WATCHDOG_TICK_SECONDS = 0.05


class OutageLog:
    """One line per failure kind and period, not one traceback per request."""

    def __init__(self, every=LOG_EVERY_SECONDS):
        self.every = every
        self.lock = threading.Lock()
        self.last_logged = {}
        self.suppressed = {}

    def record(self, kind, detail):
        now = time.monotonic()
        with self.lock:
            last = self.last_logged.get(kind)
            if last is not None and now - last < self.every:
                self.suppressed[kind] = self.suppressed.get(kind, 0) + 1
                return
            self.last_logged[kind] = now
            suppressed = self.suppressed.pop(kind, 0)
        log.error(
            "dependency unavailable",
            extra={
                "event": "dependency_unavailable",
                "fields": {"kind": kind, "detail": detail, "not_logged": suppressed},
            },
        )


OUTAGES = OutageLog()


def outage_kind(error):
    """`database` for a database that cannot answer; None for any other error."""
    if isinstance(error, sa_exc.TimeoutError):  # no pool connection in time
        return "database"
    if isinstance(error, sa_exc.DBAPIError) and (
        error.connection_invalidated
        or isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError)
    ):
        return "database"
    return None


def answer_outage(error):
    """The 503 envelope for a dependency outage, or None when it is not one."""
    kind = outage_kind(error)
    if kind is None:
        return None
    detail = type(getattr(error, "orig", None) or error).__name__
    OUTAGES.record(kind, detail)
    return from_api_error(
        ServiceUnavailable(
            "The service is temporarily unavailable; retry shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    )


class QueryWatchdog:
    """Cuts the connection of any query that runs longer than `timeout` seconds.

    SQLite is interrupted (sqlite3's own thread-safe `interrupt`); on PostgreSQL the
    socket is shut down, so the blocked read fails at once and SQLAlchemy discards
    the connection. Either way the request gets an error it can answer with 503.
    """

    def __init__(self, timeout):
        self.timeout = timeout
        self.running = {}  # id(dbapi connection) -> (deadline, dbapi connection)
        self.lock = threading.Lock()
        self.thread = None
        self.pid = None

    def attach(self, engine):
        event.listen(engine, "before_cursor_execute", self.started)
        event.listen(engine, "after_cursor_execute", self.finished)
        event.listen(engine, "handle_error", self.failed)

    def started(self, conn, cursor, statement, parameters, context, executemany):
        self.ensure_thread()
        dbapi_connection = conn.connection.dbapi_connection
        with self.lock:
            self.running[id(dbapi_connection)] = (
                time.monotonic() + self.timeout,
                dbapi_connection,
            )

    def finished(self, conn, cursor, statement, parameters, context, executemany):
        with self.lock:
            self.running.pop(id(conn.connection.dbapi_connection), None)

    def failed(self, context):
        connection = context.connection
        if connection is not None and not connection.invalidated:
            with suppress(Exception), self.lock:
                self.running.pop(id(connection.connection.dbapi_connection), None)

    def ensure_thread(self):
        # One thread per process, started by the first query (so after a fork; what
        # the parent was running is not this process's to cut).
        if self.pid == os.getpid():
            return
        with self.lock:
            if self.pid == os.getpid():
                return
            self.pid = os.getpid()
            self.running.clear()
            self.thread = threading.Thread(
                target=self.watch, name="query-watchdog", daemon=True
            )
            self.thread.start()

    def watch(self):
        while True:
            time.sleep(WATCHDOG_TICK_SECONDS)
            now = time.monotonic()
            with self.lock:
                overdue = [
                    key
                    for key, (deadline, _) in self.running.items()
                    if deadline <= now
                ]
                cut = [self.running.pop(key)[1] for key in overdue]
            for dbapi_connection in cut:
                cut_connection(dbapi_connection)


def cut_connection(dbapi_connection):
    """Make a blocked query on this DBAPI connection fail now."""
    interrupt = getattr(dbapi_connection, "interrupt", None)
    if interrupt is not None:  # sqlite3
        with suppress(Exception):
            interrupt()
        return
    pgconn = getattr(dbapi_connection, "pgconn", None)  # psycopg 3
    if pgconn is None:
        return
    with suppress(OSError, ValueError):
        # A duplicate of the descriptor: shutting it down wakes the reader of the
        # original, and closing the duplicate leaves psycopg's own descriptor alone.
        with socket.socket(fileno=os.dup(pgconn.socket)) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)
    log.warning(
        "query overran its deadline; connection cut",
        extra={"event": "query_deadline", "fields": {}},
    )


def handle_database_error(error):
    return answer_outage(error) or handle_unexpected(error)


def register_outage_handling(app, engine):
    """The 503 answer for outages, and the query deadline on the app's engine."""
    app.register_error_handler(sa_exc.SQLAlchemyError, handle_database_error)
    timeout_ms = app.config["DB_QUERY_TIMEOUT_MS"]
    if timeout_ms > 0:
        QueryWatchdog(timeout_ms / 1000).attach(engine)
