"""Engine set-up: SQLite tuned for several gunicorn workers, one writer at a time.

On SQLite every transaction begins with `BEGIN IMMEDIATE` (SQLAlchemy's documented
pysqlite recipe: the driver's own BEGIN is turned off and the "begin" event emits
ours). A transaction that reads and then writes thus holds the write lock from its
first statement: it waits its turn in SQLite's busy handler at BEGIN instead of
failing with SQLITE_BUSY when a read lock would have to become a write lock.

Reads need no write lock: a read-only path opens its connection with
`read_connection()` (Core) or `read_session()` (ORM); on SQLite its statements run
without BEGIN (each one its own snapshot), beside any writer thanks to WAL, and must
not write. Services read
there what they check before slow work (bcrypt), so the write transaction that follows
holds the lock only for its writes. A write that is one statement (the refresh's
rotation) can run as its own transaction, `single_statement_connection()`: SQLite
then locks the database only inside that one call. PostgreSQL needs none of this:
the options are ignored there.
"""

import sqlite3
import threading
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

# Execution option of a connection that only reads (no BEGIN on SQLite).
READ_ONLY_OPTION = "auth_read_only"
READ_ONLY = {READ_ONLY_OPTION: True}
# Execution option of a connection for one write statement that is its own
# transaction (no BEGIN on SQLite): `single_statement_connection()`.
SINGLE_STATEMENT_OPTION = "auth_single_statement"
# Past this wait for the process's writer lock, BEGIN IMMEDIATE goes to SQLite's own
# busy handler (busy_timeout) rather than waiting here for ever.
WRITE_QUEUE_SECONDS = 10


@contextmanager
def read_connection(engine=None):
    """A connection for reads only (of `db.engine` by default); closed after."""
    with (engine or db.engine).connect() as connection:
        yield connection.execution_options(**READ_ONLY)


@contextmanager
def read_session():
    """An ORM session on a `read_connection()`; what it loaded stays readable after.

    The objects are detached when it closes: `db.session.merge(obj, load=False)`
    makes one part of the request's transaction, without a query.
    """
    with read_connection() as connection, Session(bind=connection) as session:
        yield session


class WriterConnection(sqlite3.Connection):
    """sqlite3's connection, which lets go of its process's writer lock only once its
    COMMIT or ROLLBACK has returned (or it is closed).

    SQLAlchemy's "commit" and "rollback" events fire before the driver's call: a lock
    released there let the next writer of the process BEGIN IMMEDIATE while the
    COMMIT was still to run, and it went to sleep in SQLite's busy handler. Made by
    sqlite3.connect's documented `factory` argument (set in the "do_connect" event).
    """

    writer_lock = None
    holds_writer_lock = False

    def take_writer_lock(self):
        if self.writer_lock.acquire(timeout=WRITE_QUEUE_SECONDS):
            self.holds_writer_lock = True

    def release_writer_lock(self):
        if self.holds_writer_lock:
            self.holds_writer_lock = False
            self.writer_lock.release()

    def commit(self):
        try:
            super().commit()
        finally:
            self.release_writer_lock()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self.release_writer_lock()

    def close(self):
        try:
            super().close()
        finally:
            self.release_writer_lock()


@contextmanager
def single_statement_connection():
    """A connection for one write statement that is its own transaction.

    On SQLite the statement runs without BEGIN: SQLite takes its write lock and
    commits inside that one call, which runs without the GIL; this thread holds the
    process's writer lock around it. In a transaction each statement, and the
    COMMIT, hands the GIL back and waits to get it again while the database stays
    locked for every process. The caller still calls `commit()` (a no-op there) and
    must run exactly one statement. PostgreSQL: an ordinary transaction.
    """
    with db.engine.connect() as connection:
        connection.execution_options(**{SINGLE_STATEMENT_OPTION: True})
        dbapi_connection = connection.connection.dbapi_connection
        if not isinstance(dbapi_connection, WriterConnection):
            yield connection  # PostgreSQL
            return
        # This process's other writers wait here rather than in SQLite's busy handler.
        dbapi_connection.take_writer_lock()
        try:
            yield connection
        finally:
            dbapi_connection.release_writer_lock()


def configure_engine(engine):
    """WAL, a busy timeout, foreign keys and BEGIN IMMEDIATE on SQLite; else nothing."""
    if engine.dialect.name != "sqlite":
        return

    # Writers of this process queue on this lock, held from BEGIN IMMEDIATE until
    # the COMMIT or ROLLBACK has returned, rather than in SQLite's busy handler, whose
    # sleeps (up to 100 ms a try) would land on every waiting writer. Other processes
    # still meet in the busy handler.
    writers = threading.Lock()

    @event.listens_for(engine, "do_connect")
    def _sqlite_factory(dialect, connection_record, cargs, cparams):
        cparams["factory"] = WriterConnection

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection, connection_record):
        # pysqlite would BEGIN (deferred) on its own, and only before a write; the
        # "begin" event below emits our BEGIN for every transaction instead.
        dbapi_connection.isolation_level = None
        dbapi_connection.writer_lock = writers
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside the one writer; the busy timeout makes writers
        # wait their turn instead of failing with "database is locked".
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection):
        options = connection.get_execution_options()
        if options.get(READ_ONLY_OPTION):
            # No BEGIN at all: each read statement is its own consistent snapshot
            # (the read paths run one query), and a round trip per request is saved.
            return
        if options.get(SINGLE_STATEMENT_OPTION):
            return  # the statement is its own transaction
        dbapi_connection = connection.connection.dbapi_connection
        dbapi_connection.take_writer_lock()
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            dbapi_connection.release_writer_lock()
            raise
