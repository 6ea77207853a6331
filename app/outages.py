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
# connection_record.info key: made by the pool since it was last lent.
FRESH = "auth_fresh"


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


# sqlite3 calls every failure an OperationalError, a missing table too: only these
# mean the database cannot answer now (and may later).
SQLITE_OUTAGES = (
    "database is locked",
    "interrupted",
    "disk i/o error",
    "unable to open",
    "database or disk is full",
)


def outage_kind(error):
    """`database` for a database that cannot answer; None for any other error."""
    if isinstance(error, sa_exc.TimeoutError):  # no pool connection in time
        return "database"
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    if error.connection_invalidated or isinstance(error, sa_exc.InterfaceError):
        return "database"
    if isinstance(error, sa_exc.OperationalError):
        if type(error.orig).__module__ != "sqlite3":
            return "database"  # the server's driver: connection-level trouble
        message = str(error.orig).lower()
        if any(sign in message for sign in SQLITE_OUTAGES):
            return "database"
    return None


def record_outage(error):
    """Log `error` (once per kind and period) if it is an outage; False if not."""
    kind = outage_kind(error)
    if kind is None:
        return False
    OUTAGES.record(kind, type(getattr(error, "orig", None) or error).__name__)
    return True


def answer_outage(error):
    """The 503 envelope for a dependency outage, or None when it is not one."""
    if not record_outage(error):
        return None
    return from_api_error(
        ServiceUnavailable(
            "The service is temporarily unavailable; retry shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    )


class QueryWatchdog:
    """Cuts the connection of any database call that overruns its deadline.

    Armed around every statement (`timeout`), every COMMIT and ROLLBACK (the
    request's, and the pool's reset on return) and the check of a pooled
    connection before it is lent (`ping_timeout`): none of them passes through a
    cursor, and each blocks as long as a hung server does. SQLite is interrupted
    (sqlite3's own thread-safe `interrupt`); on PostgreSQL the socket is shut down,
    so the blocked read fails at once and SQLAlchemy discards the connection.
    Either way the request gets an error it answers with 503.
    """

    def __init__(self, timeout, ping_timeout=0):
        self.timeout = timeout
        self.ping_timeout = ping_timeout
        self.running = {}  # id(dbapi connection) -> (deadline, dbapi connection)
        self.lock = threading.Lock()
        self.thread = None
        self.pid = None

    def attach(self, engine):
        event.listen(engine, "before_cursor_execute", self.started)
        event.listen(engine, "after_cursor_execute", self.finished)
        event.listen(engine, "handle_error", self.failed)
        event.listen(engine, "commit", self.ending)
        event.listen(engine, "rollback", self.ending)
        event.listen(engine.pool, "reset", self.resetting)
        event.listen(engine.pool, "checkin", self.checked_in)
        if self.ping_timeout:
            event.listen(engine.pool, "connect", self.connected)
            event.listen(engine.pool, "checkout", self.ping)

    def arm(self, dbapi_connection, timeout):
        if not timeout:
            return
        self.ensure_thread()
        with self.lock:
            self.running[id(dbapi_connection)] = (
                time.monotonic() + timeout,
                dbapi_connection,
            )

    def disarm(self, dbapi_connection):
        with self.lock:
            self.running.pop(id(dbapi_connection), None)

    def started(self, conn, cursor, statement, parameters, context, executemany):
        # A BEGIN waits for SQLite's write lock under its own busy_timeout; a wait
        # for a lock is no outage.
        if not statement.startswith("BEGIN"):
            self.arm(conn.connection.dbapi_connection, self.timeout)

    def finished(self, conn, cursor, statement, parameters, context, executemany):
        self.disarm(conn.connection.dbapi_connection)

    def failed(self, context):
        connection = context.connection
        if connection is not None and not connection.invalidated:
            with suppress(Exception):
                self.disarm(connection.connection.dbapi_connection)

    def ending(self, conn):
        # Disarmed when the connection goes back to the pool (no event follows a
        # COMMIT); a connection is never kept idle after its transaction here.
        if not conn.invalidated:
            self.arm(conn.connection.dbapi_connection, self.timeout)

    def resetting(self, dbapi_connection, connection_record, reset_state):
        self.arm(dbapi_connection, self.timeout)

    def checked_in(self, dbapi_connection, connection_record):
        if dbapi_connection is not None:
            self.disarm(dbapi_connection)

    def connected(self, dbapi_connection, connection_record):
        connection_record.info[FRESH] = True  # just made: no need to check it

    def ping(self, dbapi_connection, connection_record, connection_proxy):
        """The pool's pre-ping, under a deadline (SQLAlchemy's own has none)."""
        if connection_record.info.pop(FRESH, False):
            return
        self.arm(dbapi_connection, self.ping_timeout)
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
        except Exception as error:
            # The pool discards this connection and lends a new one instead.
            raise sa_exc.DisconnectionError(str(error)) from error
        finally:
            self.disarm(dbapi_connection)

    def ensure_thread(self):
        # One thread per process, started by the first query (so after a fork; what
        # the parent was running is not this process's to cut).
        if self.pid == os.getpid():
            return
        if self.pid is not None:
            # A forked child: the parent's lock may have been held by its watchdog
            # thread at the fork, and what the parent was running is not ours to cut.
            self.lock = threading.Lock()
        with self.lock:
            if self.pid == os.getpid():
                return
            self.pid = os.getpid()
            self.running = {}
            self.thread = threading.Thread(
                target=self.watch, name="query-watchdog", daemon=True
            )
            self.thread.start()

    def watch(self):
        while True:
            time.sleep(WATCHDOG_TICK_SECONDS)
            try:
                self.cut_overdue(time.monotonic())
            except Exception:  # the watchdog must outlive any one odd connection
                log.exception("query watchdog: cutting a connection failed")

    def cut_overdue(self, now):
        # Under the lock: a call cannot finish (and its connection move on to another
        # statement) between being found overdue and being cut.
        with self.lock:
            overdue = [
                key for key, (deadline, _) in self.running.items() if deadline <= now
            ]
            for key in overdue:
                cut_connection(self.running.pop(key)[1])


def cut_connection(dbapi_connection):
    """Make a blocked call on this DBAPI connection fail now."""
    interrupt = getattr(dbapi_connection, "interrupt", None)
    if interrupt is not None:  # sqlite3
        with suppress(Exception):
            interrupt()
        return
    pgconn = getattr(dbapi_connection, "pgconn", None)  # psycopg 3
    if pgconn is None:
        return
    # psycopg raises its own error when the connection is already gone: nothing to cut.
    with suppress(Exception):
        # A duplicate of the descriptor: shutting it down wakes the reader of the
        # original, and closing the duplicate leaves psycopg's own descriptor alone.
        with socket.socket(fileno=os.dup(pgconn.socket)) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)
    OUTAGES.record("database_deadline", "connection cut")


def handle_database_error(error):
    return answer_outage(error) or handle_unexpected(error)


def register_outage_handling(app, engine):
    """The 503 answer for outages, and the query deadline on the app's engine."""
    app.register_error_handler(sa_exc.SQLAlchemyError, handle_database_error)
    # 0 turns a deadline off. SQLite files need no check before use; a server's
    # pooled connection may have died since it was last used.
    timeout = max(app.config["DB_QUERY_TIMEOUT_MS"], 0) / 1000
    ping = max(app.config["DB_PING_TIMEOUT_MS"], 0) / 1000
    if engine.dialect.name == "sqlite":
        ping = 0
    if timeout or ping:
        QueryWatchdog(timeout, ping).attach(engine)
