"""One transaction rule: each request that changes data commits exactly once.

Every endpoint calls one service function, which commits (or rolls back) once;
helpers never commit. Counted with SQLAlchemy's engine `commit` event.
"""

import uuid

import pytest
from sqlalchemy import event

from app.auth import account_tokens
from app.extensions import db
from app.models.one_time_token import PURPOSE_EMAIL_VERIFY, PURPOSE_PASSWORD_RESET
from tests.conftest import PASSWORD
from tests.helpers import assert_error, assert_ok
from tests.urls import AUTH

NEW_PASSWORD = "another long pass phrase 7"


@pytest.fixture
def commits(app):
    """How many transactions the app committed while the test ran."""
    counted = []

    def record(connection):
        counted.append(connection)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "commit", record)

    class Counter:
        def __call__(self, response_or_call, *args, **kwargs):
            # commits(lambda: client.post(...)): the answer and its commit count
            counted.clear()
            response = response_or_call(*args, **kwargs)
            return response, len(counted)

    yield Counter()
    event.remove(engine, "commit", record)


def mailed_token(app, user_id, purpose):
    with app.app_context():
        raw = account_tokens.issue_token(
            user_id=uuid.UUID(user_id), purpose=purpose, ttl_seconds=60
        )
        db.session.commit()
    return raw


def test_account_flows_commit_once_each(app, auth, commits):
    client = app.test_client()
    bearer = {"X-Auth-Mode": "bearer"}
    account = {"name": "Ada", "email": "ada@example.com", "password": PASSWORD}

    response, count = commits(
        client.post, f"{AUTH}/register", json=account, headers=bearer
    )
    assert_ok(response, 201)
    assert count == 1
    user_id = response.get_json()["data"]["user"]["id"]

    credentials = {"email": "ada@example.com", "password": PASSWORD}
    response, count = commits(
        client.post, f"{AUTH}/login", json=credentials, headers=bearer
    )
    assert_ok(response)
    assert count == 1
    data = response.get_json()["data"]
    refresh = {"Authorization": f"Bearer {data['refreshToken']}"}

    response, count = commits(client.post, f"{AUTH}/refresh-token", headers=refresh)
    assert_ok(response)
    assert count == 1
    # The old refresh token again, past the grace period: reuse, one commit (revoke).
    app.config["REFRESH_REUSE_GRACE_SECONDS"] = -1
    response, count = commits(client.post, f"{AUTH}/refresh-token", headers=refresh)
    assert_error(response, 401, "token_revoked")
    assert count == 1

    other = auth.login("ada@example.com")
    response, count = commits(
        client.post,
        f"{AUTH}/password/change",
        json={"oldPassword": PASSWORD, "newPassword": NEW_PASSWORD},
        headers=other.headers,
    )
    assert_ok(response)
    assert count == 1

    response, count = commits(
        client.post, f"{AUTH}/password/reset", json={"email": "ada@example.com"}
    )
    assert_ok(response, 202)
    assert count == 1
    response, count = commits(
        client.post, f"{AUTH}/password/reset", json={"email": "nobody@example.com"}
    )
    assert_ok(response, 202)
    # The same work as for a real account (one outbox row): nothing tells them apart.
    assert count == 1

    token = mailed_token(app, user_id, PURPOSE_PASSWORD_RESET)
    response, count = commits(
        client.post,
        f"{AUTH}/password/reset/confirm",
        json={"token": token, "newPassword": PASSWORD},
    )
    assert_ok(response)
    assert count == 1

    token = mailed_token(app, user_id, PURPOSE_EMAIL_VERIFY)
    response, count = commits(
        client.post, f"{AUTH}/email/verify/confirm", json={"token": token}
    )
    assert_ok(response)
    assert count == 1


def test_session_flows_commit_once_each(auth, commits):
    caller = auth.register()
    second = auth.login(caller.extra["email"])
    client = caller.client

    response, count = commits(client.get, f"{AUTH}/sessions", headers=caller.headers)
    assert_ok(response)
    assert count == 0  # a read: nothing to commit

    response, count = commits(
        client.delete, f"{AUTH}/sessions/{second.user['id']}", headers=caller.headers
    )
    assert_error(response, 404, "not_found")
    assert count == 0

    sessions = client.get(f"{AUTH}/sessions", headers=caller.headers)
    other_id = next(
        entry["id"]
        for entry in sessions.get_json()["data"]["sessions"]
        if not entry["current"]
    )
    response, count = commits(
        client.delete, f"{AUTH}/sessions/{other_id}", headers=caller.headers
    )
    assert_ok(response)
    assert count == 1

    response, count = commits(client.post, f"{AUTH}/logout-all", headers=caller.headers)
    assert_ok(response)
    assert count == 1

    response, count = commits(client.post, f"{AUTH}/logout", headers=caller.headers)
    assert_ok(response)
    assert count == 1
