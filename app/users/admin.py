"""Operator services behind `flask users ...`: create, (de)activate, roles, seed."""

import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from app import events
from app.audit.trail import SYSTEM
from app.auth.services import add_account, email_must_be_free, find_user_by_email
from app.auth.sessions import (
    REVOKED_DEACTIVATED,
    REVOKED_ROLE_CHANGE,
    revoke_user_sessions,
)
from app.errors import NotFound
from app.extensions import db
from app.models import User
from app.models.user import ROLE_ADMIN

# The demo accounts, the project's one list of them: `flask users seed-demo`,
# `flask dev reset` and SEED_DEMO_USERS (`make run`) all create these.
DEMO_EMAIL = "demo{number}@example.com"
DEMO_NAME = "Demo User {number}"
DEMO_ACCOUNT_COUNT = 3
MAX_DEMO_ACCOUNTS = 20
# DEV_MOCK's named demo users (docs/compat.md lists them), all with one documented
# password that passes the password policy.
MOCK_DEMO_USERS = (
    ("Alice Johnson", "alice@example.com"),
    ("Bob Smith", "bob@example.com"),
    ("Charlie Brown", "charlie@example.com"),
    ("Diana Prince", "diana@example.com"),
    ("Ethan Hunt", "ethan@example.com"),
)
MOCK_DEMO_PASSWORD = "mock-password-123"


class NotAllowedHere(Exception):
    """The command refuses to run in this environment."""


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str | None  # None: the account existed already and was left alone


def create_account(*, name, email, password, verified=False):
    """Create an account without opening a session; EmailTaken when it exists."""
    user = add_account(name=name, email=email, password=password, verified=verified)
    with email_must_be_free():
        db.session.flush()
        events.emit(
            events.ACCOUNT_CREATED, actor=SYSTEM, user_id=str(user.id), by="cli"
        )
        db.session.commit()
    return user


def _user_by_email(email):
    user = find_user_by_email(email.strip().lower())
    if user is None:
        raise NotFound("No account with this email.")
    return user


def deactivate_account(*, email):
    """Disable the account and revoke all its sessions; returns (user, revoked)."""
    user = _user_by_email(email)
    user.is_active = False
    revoked = revoke_user_sessions(user_id=user.id, reason=REVOKED_DEACTIVATED)
    events.emit(
        events.ACCOUNT_DEACTIVATED,
        actor=SYSTEM,
        user_id=str(user.id),
        revoked=revoked,
        by="cli",
    )
    db.session.commit()
    return user, revoked


def activate_account(*, email):
    """Enable the account again; its old sessions stay revoked (log in anew)."""
    user = _user_by_email(email)
    user.is_active = True
    events.emit(events.ACCOUNT_ACTIVATED, actor=SYSTEM, user_id=str(user.id), by="cli")
    db.session.commit()
    return user


def refuse_outside_development(command, *, allow_testing):
    """NotAllowedHere in production always, in testing unless `allow_testing`."""
    app_env = current_app.config["APP_ENV"]
    if app_env == "production" or (app_env == "testing" and not allow_testing):
        raise NotAllowedHere(f"{command} runs in development only, not in {app_env}")


def demo_account_list(count):
    """(name, email, password or None for a random one) of each demo account.

    With DEV_MOCK: the five named users and their documented password.
    """
    if current_app.config["DEV_MOCK"]:
        return [(name, email, MOCK_DEMO_PASSWORD) for name, email in MOCK_DEMO_USERS]
    return [
        (f"Demo User {number}", DEMO_EMAIL.format(number=number), None)
        for number in range(1, count + 1)
    ]


def seed_demo_accounts(*, count, allow_testing=False):
    """Demo accounts with random strong passwords, for development only.

    Production is always refused; testing only with `allow_testing`. Existing demo
    accounts are kept as they are (their password is not shown again). With
    DEV_MOCK the accounts are its five named users (`demo_account_list`).
    """
    refuse_outside_development("seed-demo", allow_testing=allow_testing)
    if not 1 <= count <= MAX_DEMO_ACCOUNTS:
        raise ValueError(f"count must be between 1 and {MAX_DEMO_ACCOUNTS}")
    accounts, created = [], []
    for name, email, password in demo_account_list(count):
        if find_user_by_email(email) is not None:
            accounts.append(DemoAccount(email=email, password=None))
            continue
        password = password or secrets.token_urlsafe(15)
        created.append(
            add_account(name=name, email=email, password=password, verified=True)
        )
        accounts.append(DemoAccount(email=email, password=password))
    with email_must_be_free():
        db.session.flush()
        for user in created:
            events.emit(
                events.ACCOUNT_CREATED, actor=SYSTEM, user_id=str(user.id), by="cli"
            )
        db.session.commit()
    return accounts


def reset_database(*, count=DEMO_ACCOUNT_COUNT, allow_testing=False):
    """`flask dev reset`: empty every table, then create the demo accounts again.

    Development only (testing with `allow_testing`); never in production. The
    schema and its migration state stay.
    """
    refuse_outside_development("dev reset", allow_testing=allow_testing)
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
    return seed_demo_accounts(count=count, allow_testing=allow_testing)


def seed_demo_on_first_start():
    """`make run` with SEED_DEMO_USERS=true in development: the demo accounts, on a
    database without any account; else None (nothing done)."""
    config = current_app.config
    if not config["SEED_DEMO_USERS"] or config["APP_ENV"] != "development":
        return None
    if db.session.scalar(select(User.id).limit(1)) is not None:
        db.session.rollback()
        return None
    return seed_demo_accounts(count=DEMO_ACCOUNT_COUNT)


def list_accounts():
    """Every account, oldest first (the dev mock's user list)."""
    return db.session.scalars(select(User).order_by(User.created_at, User.email)).all()


def reset_demo_accounts(*, allow_testing=False):
    """DEV_MOCK: back to the named demo users (`flask dev reset`'s work); how many.

    Every account goes, with everything it owns, and the five are seeded again:
    documented passwords, no sessions.
    """
    if not current_app.config["DEV_MOCK"]:
        raise NotAllowedHere("the demo user reset needs DEV_MOCK in development")
    accounts = reset_database(count=len(MOCK_DEMO_USERS), allow_testing=allow_testing)
    return len(accounts)


class LastAdmin(Exception):
    """The change would leave the service without an active admin."""


def other_active_admins(user_id):
    """How many active admins there are besides `user_id` (rows locked on PostgreSQL).

    FOR UPDATE: two admins demoting or deactivating each other at once cannot both
    pass the check (SQLite's BEGIN IMMEDIATE serialises them anyway).
    """
    rows = db.session.scalars(
        select(User.id)
        .where(User.role == ROLE_ADMIN, User.is_active.is_(True), User.id != user_id)
        .with_for_update()
    ).all()
    return len(rows)


def change_role(*, user, role, actor):
    """Give `user` the role, ending their sessions (no token keeps the old role).

    Returns the sessions revoked, or None when the user had the role already. The
    caller commits. LastAdmin when it would demote the last active admin.
    """
    if user.role == role:
        return None
    if user.role == ROLE_ADMIN and user.is_active and not other_active_admins(user.id):
        raise LastAdmin()
    previous, user.role = user.role, role
    revoked = revoke_user_sessions(user_id=user.id, reason=REVOKED_ROLE_CHANGE)
    events.emit(
        events.ROLE_CHANGED,
        actor=actor,
        user_id=str(user.id),
        previous=previous,
        role=role,
        sessions_revoked=revoked,
    )
    return revoked


def set_role(*, email, role):
    """`flask users promote/demote`: (user, sessions revoked or None); one commit."""
    user = _user_by_email(email)
    revoked = change_role(user=user, role=role, actor=SYSTEM)
    db.session.commit()
    return user, revoked
