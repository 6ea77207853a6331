"""Engine set-up: SQLite tuned for several gunicorn workers."""

import threading
import weakref
from contextlib import nullcontext

from sqlalchemy import event

_write_locks = weakref.WeakKeyDictionary()


def serialized_writes(engine):
    """On SQLite, a lock that threads of this process take around a write.

    SQLite admits one writer at a time; the others get SQLITE_BUSY and sleep in
    1 to 100 ms steps before they retry, even when the writer is done in 0.1 ms.
    Threads of one worker queue on this lock instead; only the workers (a few
    processes) still meet in SQLite's busy handler.
    """
    lock = _write_locks.get(engine)
    return lock if lock is not None else nullcontext()


def configure_engine(engine):
    """WAL, a busy timeout and foreign keys on SQLite; nothing to do on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return
    _write_locks[engine] = threading.Lock()

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, connection_record):
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside the one writer; the busy timeout makes writers
        # wait their turn instead of failing with "database is locked".
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
