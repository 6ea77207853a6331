"""SQLite: transactions that may write begin IMMEDIATE; read connections do not.

SQLite-specific, so it runs in the SQLite pass of the suite only.
"""

import os
import threading
import time

import pytest
from sqlalchemy import event, func, select, text, update
from sqlalchemy.exc import OperationalError

from app.database import read_connection, single_statement_connection
from app.extensions import db
from app.models import User
from tests.helpers import sent_statements
from tests.urls import ME

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")),
    reason="SQLite-specific; runs in the SQLite pass",
)


@pytest.fixture
def begins(app):
    """The BEGIN statements the engine sends while the test runs."""
    with sent_statements(app, lambda sql: sql.startswith("BEGIN")) as sent:
        yield sent


def test_session_transactions_begin_immediate_reads_begin_nothing(app, begins):
    with app.app_context():
        db.session.scalar(select(func.count()).select_from(User))
        db.session.rollback()
        with read_connection() as connection:
            connection.execute(select(func.count()).select_from(User))
    # A read connection runs its statements in autocommit: each one snapshot.
    assert begins == ["BEGIN IMMEDIATE"]


def test_parallel_read_then_write_transactions_never_fail(app, make_user):
    user = make_user(name="Counter 0")
    errors = []

    def read_then_write():
        try:
            with app.app_context(), db.engine.begin() as connection:
                name = connection.execute(
                    select(User.name).where(User.id == user.id)
                ).scalar_one()
                time.sleep(0.05)  # the others read meanwhile, deferred BEGIN or not
                number = int(name.split()[-1]) + 1
                connection.execute(
                    update(User)
                    .where(User.id == user.id)
                    .values(name=f"Counter {number}")
                )
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=read_then_write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    with app.app_context(), read_connection() as connection:
        name = connection.execute(select(User.name).where(User.id == user.id))
        # Serialized: no update was lost either.
        assert name.scalar_one() == "Counter 4"


def test_reads_do_not_wait_for_a_writer(app, make_user):
    make_user()
    with app.app_context(), db.engine.connect() as writer:
        writer.execute(text("UPDATE users SET name = 'held'"))  # holds the write lock
        started = time.monotonic()
        with read_connection() as connection:
            count = connection.execute(select(func.count()).select_from(User))
            assert count.scalar_one() == 1
        assert time.monotonic() - started < 1
        writer.rollback()


def test_the_access_check_does_not_wait_for_a_writer(app, auth):
    caller = auth.register()
    with app.app_context(), db.engine.connect() as writer:
        writer.execute(text("UPDATE users SET name = 'held'"))  # holds the write lock
        started = time.monotonic()
        response = caller.client.get(ME, headers=caller.headers)
        assert response.status_code == 200, response.get_json()
        assert time.monotonic() - started < 1
        writer.rollback()


def writer_lock_held():
    """Whether this process's SQLite writer lock is taken (by anyone)."""
    with db.engine.connect() as connection:
        return connection.connection.dbapi_connection.writer_lock.locked()


def test_the_writer_lock_is_held_until_commit_has_returned(app, make_user):
    user = make_user()
    seen = {}

    def on_commit(connection):
        # SQLAlchemy's commit event fires before the driver's COMMIT.
        seen["during"] = connection.connection.dbapi_connection.writer_lock.locked()

    with app.app_context():
        event.listen(db.engine, "commit", on_commit)
        try:
            db.session.execute(
                update(User).where(User.id == user.id).values(name="Renamed")
            )
            assert writer_lock_held()
            db.session.commit()
        finally:
            event.remove(db.engine, "commit", on_commit)
        assert seen == {"during": True}
        assert not writer_lock_held()
        db.session.execute(update(User).where(User.id == user.id).values(name="Again"))
        db.session.rollback()
        assert not writer_lock_held()


def test_a_single_statement_write_sends_no_begin_and_lets_go_of_the_lock(
    app, make_user, begins
):
    user = make_user()
    begins.clear()
    with app.app_context():
        with single_statement_connection() as connection:
            assert writer_lock_held()
            connection.execute(
                update(User).where(User.id == user.id).values(name="Single")
            )
            connection.commit()
        assert not writer_lock_held()
        assert begins == []
        # A failed statement lets go of it too.
        with pytest.raises(OperationalError):
            with single_statement_connection() as connection:
                connection.execute(text("UPDATE no_such_table SET x = 1"))
        assert not writer_lock_held()
        with read_connection() as connection:
            name = connection.scalar(select(User.name).where(User.id == user.id))
    assert name == "Single"
    assert begins == []
