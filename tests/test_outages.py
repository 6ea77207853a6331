"""Database outages answer 503 `unavailable` fast, logged once, never a 500."""

import logging
import time
from contextlib import suppress

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from app import create_app
from app.outages import QueryWatchdog
from tests.helpers import assert_error
from tests.urls import HEALTH, LOGIN

# Nothing listens there: every connection attempt is refused at once.
DEAD_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:9/none"


@pytest.fixture
def dead_database_app():
    return create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": DEAD_DATABASE})


def test_unreachable_database_is_503_with_retry_after(dead_database_app, caplog):
    client = dead_database_app.test_client()
    caplog.set_level(logging.ERROR, logger="app.outages")
    started = time.monotonic()
    for _ in range(5):
        response = client.post(
            LOGIN,
            json={"email": "ada@example.com", "password": "pass phrase 42"},
        )
        assert_error(response, 503, "unavailable")
        assert int(response.headers["Retry-After"]) >= 1
    assert time.monotonic() - started < 10
    outage_lines = [r for r in caplog.records if r.name == "app.outages"]
    # One line for the kind, not one traceback per request.
    assert len(outage_lines) <= 1
    assert all(record.exc_info is None for record in outage_lines)


def test_health_still_reports_the_database(dead_database_app):
    response = dead_database_app.test_client().get(HEALTH)
    assert_error(response, 503, "unavailable")


def test_watchdog_interrupts_an_overrunning_sqlite_query(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'slow.db'}")
    QueryWatchdog(0.2).attach(engine)
    endless = text(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
        "SELECT count(*) FROM n"
    )
    started = time.monotonic()
    with pytest.raises(OperationalError, match="interrupted"):
        with engine.connect() as connection:
            connection.execute(endless)
    assert time.monotonic() - started < 3
    with engine.connect() as connection:  # the engine works on afterwards
        assert connection.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()


def test_only_unavailability_is_an_outage():
    import sqlite3

    from app.outages import outage_kind

    def operational(message):
        return OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))

    assert outage_kind(operational("database is locked")) == "database"
    assert outage_kind(operational("interrupted")) == "database"
    # A missing table is a bug to fix (500, logged), not a dependency to wait for.
    assert outage_kind(operational("no such table: users")) is None


def test_sqlite_write_lock_is_released_after_an_invalidated_connection(tmp_path):
    import threading

    from app.database import configure_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    configure_engine(engine)
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
        connection.commit()
    connection = engine.connect()
    connection.execute(text("INSERT INTO t VALUES (1)"))
    connection.invalidate()
    with suppress(Exception):  # SQLAlchemy may refuse: the connection is gone
        connection.rollback()
    connection.close()
    done = threading.Event()

    def write():
        with engine.connect() as other:
            other.execute(text("INSERT INTO t VALUES (2)"))
            other.commit()
        done.set()

    threading.Thread(target=write, daemon=True).start()
    assert done.wait(3), "the writer lock was left held"
    engine.dispose()
