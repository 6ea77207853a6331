"""DELETE /users/me: erased at once or after a grace period; nothing of it stays."""

import threading
import uuid

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, User, UserSession
from tests.auth.flows import FRONTEND_URL
from tests.auth.mfa import code_at, enrol
from tests.conftest import PASSWORD
from tests.helpers import assert_error, assert_ok
from tests.urls import (
    LOGIN,
    ME,
    ME_EXPORT,
    MFA_STEP_UP,
    PASSWORD_CHANGE,
    PASSWORD_RESET,
    REFRESH,
    REGISTER,
    SECURITY_EVENTS,
)

pytestmark = pytest.mark.config(FRONTEND_URL=FRONTEND_URL)
CLIENT_IP = "203.0.113.77"
GRACE = {"ACCOUNT_DELETION_GRACE_DAYS": 7}


@pytest.fixture
def settings(mail_settings):
    return {**mail_settings, "ALERT_NEW_DEVICE": True}


def delete_account(caller, password=PASSWORD, **kwargs):
    return caller.client.delete(
        ME, json={"password": password}, headers=caller.headers, **kwargs
    )


def signed_up(app, mailbox, *, mode="bearer"):
    """A user with a name, email and IP of its own, signed in twice, mails delivered."""
    tag = uuid.uuid4().hex[:10]
    name, email = f"Zelda Q{tag}", f"zq{tag}@example.com"
    client = app.test_client()
    headers = {"X-Auth-Mode": "bearer"} if mode == "bearer" else {}
    environ = {"REMOTE_ADDR": CLIENT_IP, "HTTP_USER_AGENT": f"Browser/{tag}"}
    registered = client.post(
        REGISTER,
        json={"name": name, "email": email, "password": PASSWORD},
        headers=headers,
        environ_base=environ,
    )
    assert_ok(registered, 201)
    login = client.post(
        LOGIN,
        json={"email": email, "password": PASSWORD},
        headers=headers,
        environ_base=environ,
    )
    data = assert_ok(login)
    mailbox.clear()
    return Account(client, data, name, email, environ)


class Account:
    def __init__(self, client, data, name, email, environ):
        self.client = client
        self.data = data
        self.name = name
        self.email = email
        self.environ = environ
        self.access_token = data["accessToken"]
        self.refresh_token = data.get("refreshToken")
        self.extra = {"email": email}

    @property
    def headers(self):
        return {"Authorization": f"Bearer {self.access_token}"}

    @property
    def refresh_headers(self):
        return {"Authorization": f"Bearer {self.refresh_token}"}


def rows_naming(app, *needles):
    """(table, row) of every row of every table whose text holds one of `needles`."""
    found = []
    needles = [needle.lower() for needle in needles]
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)).all():
                text = repr(tuple(row)).lower()
                if any(needle in text for needle in needles):
                    found.append((table.name, row))
        db.session.remove()
    return found


def user_exists(app, email):
    with app.app_context():
        found = db.session.scalar(select(User.id).where(User.email == email))
        db.session.remove()
    return found is not None


def test_deletion_erases_everything_that_names_the_user(app, auth, mailbox, move_clock):
    account = signed_up(app, mailbox)
    secret, _ = enrol(account, move_clock)
    stepped = assert_ok(
        account.client.post(
            MFA_STEP_UP,
            json={"code": code_at(secret)},
            headers=account.headers,
            environ_base=account.environ,
        )
    )
    account.access_token = stepped["accessToken"]
    mailbox.clear()
    # A mail still waiting in the outbox for the user.
    assert_ok(
        app.test_client().post(PASSWORD_RESET, json={"email": account.email}), 202
    )
    assert rows_naming(app, account.email, account.name, CLIENT_IP)
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == account.email))
        db.session.remove()

    answer = delete_account(account, environ_base=account.environ)
    data = assert_ok(answer)
    assert data == {
        "message": "Your account was deleted. Goodbye.",
        "deletionPending": False,
        "purgeAfter": None,
    }
    # The access token is refused at once; the refresh token and the password too.
    assert_error(account.client.get(ME, headers=account.headers), 401, "token_revoked")
    refresh = account.client.post(REFRESH, headers=account.refresh_headers)
    assert_error(refresh, 401, "token_revoked")
    login = app.test_client().post(
        LOGIN, json={"email": account.email, "password": PASSWORD}
    )
    assert_error(login, 401, "invalid_credentials")
    # The goodbye mail, and not the reset link that was still waiting.
    [goodbye] = mailbox.wait_for(1)
    assert goodbye.rcpt_tos == [account.email]
    assert goodbye.subject == "Your account was deleted"
    assert account.name in goodbye.text
    assert [m.subject for m in mailbox.messages] == ["Your account was deleted"]

    assert rows_naming(app, account.email, account.name, CLIENT_IP) == []
    with app.app_context():
        kept = db.session.scalars(
            select(AuditEvent).where(AuditEvent.user_id == user_id)
        ).all()
        assert {"registered", "login_ok", "account_deleted"} <= {e.type for e in kept}
        assert all(e.ip is None and e.user_agent is None for e in kept)
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0
        db.session.remove()
    # The email is free again.
    again = app.test_client().post(
        REGISTER, json={"name": "Next", "email": account.email, "password": PASSWORD}
    )
    assert_ok(again, 201)


def test_cookie_sessions_are_deleted_too(app, mailbox):
    account = signed_up(app, mailbox, mode="cookie")
    assert_ok(delete_account(account))
    assert_error(account.client.get(ME, headers=account.headers), 401, "token_revoked")


def test_a_wrong_password_deletes_nothing(app, mailbox):
    account = signed_up(app, mailbox)
    assert_error(delete_account(account, "not it"), 400, "invalid_credentials")
    assert_ok(account.client.get(ME, headers=account.headers))
    assert user_exists(app, account.email)
    assert mailbox.messages == []


@pytest.mark.parametrize(
    "body",
    [None, {}, {"password": ""}, {"password": 12}, {"password": "x" * 2000}],
    ids=["none", "empty", "blank", "number", "huge"],
)
def test_malformed_bodies_are_400(app, mailbox, body):
    account = signed_up(app, mailbox)
    answer = account.client.delete(ME, json=body, headers=account.headers)
    assert answer.status_code == 400, answer.get_json()
    assert answer.get_json()["code"] in {"validation_error", "invalid_json"}
    assert user_exists(app, account.email)


@pytest.mark.ratelimit
@pytest.mark.config(RATELIMIT_LOGIN_ACCOUNT="2 per minute")
def test_wrong_passwords_are_rate_limited_like_a_password_change(app, mailbox):
    account = signed_up(app, mailbox)
    for _ in range(2):
        assert_error(delete_account(account, "wrong"), 400, "invalid_credentials")
    assert_error(delete_account(account), 429, "rate_limited")
    change = account.client.post(
        PASSWORD_CHANGE,
        json={"oldPassword": PASSWORD, "newPassword": "another long passphrase"},
        headers=account.headers,
    )
    assert_error(change, 429, "rate_limited")
    assert user_exists(app, account.email)


def test_mfa_accounts_need_a_step_up(app, mailbox, move_clock):
    account = signed_up(app, mailbox)
    enrol(account, move_clock)
    move_clock(seconds=app.config["MFA_STEP_UP_TTL"] + 1)
    assert_error(delete_account(account), 403, "mfa_required")
    assert user_exists(app, account.email)


def test_two_parallel_deletions_delete_once(app, mailbox):
    account = signed_up(app, mailbox)
    barrier = threading.Barrier(2)
    answers = []

    def attempt():
        client = app.test_client()
        barrier.wait()
        answer = client.delete(ME, json={"password": PASSWORD}, headers=account.headers)
        answers.append((answer.status_code, answer.get_json()["success"]))

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [(200, True), (401, False)]
    assert not user_exists(app, account.email)
    assert len(mailbox.wait_for(1)) == 1


def test_deletion_during_refreshes_leaves_no_session(app, mailbox):
    account = signed_up(app, mailbox)
    barrier = threading.Barrier(5)
    refreshed = []

    def refresh():
        client = app.test_client()
        barrier.wait()
        answer = client.post(REFRESH, headers=account.refresh_headers)
        refreshed.append(answer)

    def delete():
        client = app.test_client()
        barrier.wait()
        answer = client.delete(ME, json={"password": PASSWORD}, headers=account.headers)
        refreshed.append(answer)

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    threads.append(threading.Thread(target=delete))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer.status_code in (200, 401) for answer in refreshed), [
        answer.get_json() for answer in refreshed
    ]
    assert not user_exists(app, account.email)
    for answer in refreshed:
        data = answer.get_json()["data"] if answer.status_code == 200 else {}
        if "accessToken" in data:
            headers = {"Authorization": f"Bearer {data['accessToken']}"}
            assert_error(
                app.test_client().get(ME, headers=headers), 401, "token_revoked"
            )
        if "refreshToken" in data:
            headers = {"Authorization": f"Bearer {data['refreshToken']}"}
            again = app.test_client().post(REFRESH, headers=headers)
            assert_error(again, 401, "token_revoked")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0
        db.session.remove()


@pytest.mark.config(**GRACE)
def test_grace_period_signs_out_and_signing_in_restores(app, mailbox):
    account = signed_up(app, mailbox)
    other = app.test_client().post(
        LOGIN,
        json={"email": account.email, "password": PASSWORD},
        headers={"X-Auth-Mode": "bearer"},
    )
    other_headers = {"Authorization": f"Bearer {assert_ok(other)['accessToken']}"}
    mailbox.clear()
    data = assert_ok(delete_account(account))
    assert data["deletionPending"] is True and data["purgeAfter"].endswith("Z")
    for headers in (account.headers, other_headers):
        assert_error(account.client.get(ME, headers=headers), 401, "token_revoked")
    refresh = account.client.post(REFRESH, headers=account.refresh_headers)
    assert_error(refresh, 401, "token_revoked")
    [scheduled] = mailbox.wait_for(1)
    assert scheduled.subject == "Your account will be deleted"
    # Still the account's address while it waits.
    taken = app.test_client().post(
        REGISTER, json={"name": "X", "email": account.email, "password": PASSWORD}
    )
    assert_error(taken, 409, "email_taken")
    # A second deletion request of a stale token changes nothing.
    assert_error(delete_account(account), 401, "token_revoked")

    login = app.test_client().post(
        LOGIN,
        json={"email": account.email, "password": PASSWORD},
        headers={"X-Auth-Mode": "bearer"},
    )
    headers = {"Authorization": f"Bearer {assert_ok(login)['accessToken']}"}
    assert_ok(app.test_client().get(ME, headers=headers))
    feed = assert_ok(app.test_client().get(SECURITY_EVENTS, headers=headers))
    types = [event["type"] for event in feed["events"]]
    assert types.index("account_restored") < types.index("account_deletion_requested")
    # Restored: `flask auth purge` keeps it.
    result = app.test_cli_runner().invoke(args=["auth", "purge"])
    assert "Deleted 0 accounts" in result.output
    assert user_exists(app, account.email)


@pytest.mark.config(**GRACE)
def test_purge_erases_accounts_whose_grace_period_is_over(app, mailbox, move_clock):
    account = signed_up(app, mailbox)
    assert_ok(delete_account(account))
    runner = app.test_cli_runner()
    move_clock(days=6)
    assert "Deleted 0 accounts" in runner.invoke(args=["auth", "purge"]).output
    assert user_exists(app, account.email)
    move_clock(days=2)
    mailbox.clear()
    result = runner.invoke(args=["auth", "purge"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 accounts" in result.output
    assert not user_exists(app, account.email)
    [goodbye] = mailbox.wait_for(1)
    assert goodbye.subject == "Your account was deleted"
    assert rows_naming(app, account.email, account.name, CLIENT_IP) == []


@pytest.mark.config(**GRACE)
def test_pending_deletion_is_not_deactivation(app, mailbox):
    account = signed_up(app, mailbox)
    runner = app.test_cli_runner()
    # An operator's deactivation: signing in does not undo it.
    assert runner.invoke(args=["users", "deactivate", account.email]).exit_code == 0
    login = {"email": account.email, "password": PASSWORD}
    assert_error(app.test_client().post(LOGIN, json=login), 403, "account_disabled")
    assert_error(app.test_client().post(LOGIN, json=login), 403, "account_disabled")
    assert_error(
        account.client.get(ME_EXPORT, headers=account.headers), 403, "account_disabled"
    )
    assert runner.invoke(args=["users", "activate", account.email]).exit_code == 0
    again = assert_ok(
        app.test_client().post(LOGIN, json=login, headers={"X-Auth-Mode": "bearer"})
    )
    account.access_token = again["accessToken"]
    assert_ok(delete_account(account))
    # Waiting for deletion and deactivated: still disabled, and not restored.
    assert runner.invoke(args=["users", "deactivate", account.email]).exit_code == 0
    assert_error(app.test_client().post(LOGIN, json=login), 403, "account_disabled")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == account.email))
        assert user.deletion_pending
        db.session.remove()
