"""Account deletion: DELETE /users/me, the grace period, and `flask auth purge`.

Erasing deletes the account's row and every row of OWNED_DATA (sessions, one-time
tokens, MFA secrets, passkeys...), the outbox rows still addressed to it, and strips
its audit events of IP and user agent (the events stay for the operator, under the
account's now meaningless id). The email is free for a new registration at once.
With ACCOUNT_DELETION_GRACE_DAYS the account first waits, signed out everywhere,
until the purge; signing in restores it (app/auth/restore.py).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from app import clock, events
from app.auth import account_mail, mfa, passwords, sessions
from app.errors import TokenRevoked, WrongOldPassword
from app.extensions import db
from app.models import AuditEvent, OneTimeToken, OutboxMail, User
from app.users.owned_data import OWNED_DATA

DELETED = "Your account was deleted. Goodbye."
SCHEDULED = (
    "Your account will be deleted after the grace period; sign in before then to "
    "keep it."
)


@dataclass(frozen=True)
class Deletion:
    deletion_pending: bool
    purge_after: datetime | None


def request_deletion(*, user, access_claims, password):
    """Delete the caller's account (or start its grace period); one commit.

    A wrong password is 400 invalid_credentials (counted like a password change's);
    with MFA on, the access token must show a recent second factor. Of two parallel
    deletions the second finds the account gone (or pending): 401 token_revoked.
    """
    if not passwords.verify_password(password, user.password_hash):
        raise WrongOldPassword()
    mfa.require_recent_factor(user=user, claims=access_claims)
    # Locked and read again: a deletion that committed while bcrypt ran wins.
    user = db.session.get(User, user.id, with_for_update=True, populate_existing=True)
    if user is None or user.deletion_pending:
        db.session.rollback()
        raise TokenRevoked("This account is deleted or waiting for deletion.")
    grace_days = current_app.config["ACCOUNT_DELETION_GRACE_DAYS"]
    if grace_days <= 0:
        erase_account(user)
        db.session.commit()
        return Deletion(deletion_pending=False, purge_after=None)
    now = clock.now()
    purge_after = now + timedelta(days=grace_days)
    user.deletion_requested_at = now
    user.updated_at = now
    void_all_tokens(user.id)
    revoked = sessions.revoke_user_sessions(
        user_id=user.id, reason=sessions.REVOKED_DELETION_REQUESTED
    )
    account_mail.queue_deletion_scheduled(user=user, purge_after=purge_after)
    events.emit(
        events.ACCOUNT_DELETION_REQUESTED,
        user_id=str(user.id),
        sessions_revoked=revoked,
        purge_after=purge_after.isoformat(),
    )
    db.session.commit()
    return Deletion(deletion_pending=True, purge_after=purge_after)


def void_all_tokens(user_id):
    db.session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.user_id == user_id, OneTimeToken.used_at.is_(None))
        .values(used_at=clock.now())
        .execution_options(synchronize_session=False)
    )


def erase_account(user):
    """Delete the account and all it owns, in the caller's transaction (no commit)."""
    drop_outbox_mail(user.email)
    # Rendered now, while the name is known; the sender scrubs the row once sent.
    account_mail.queue_account_deleted(user=user)
    events.emit(events.ACCOUNT_DELETED, user_id=str(user.id))
    db.session.flush()
    anonymise_audit_events(user.id)
    for owned in OWNED_DATA:
        db.session.execute(
            delete(owned.model)
            .where(owned.model.user_id == user.id)
            .execution_options(synchronize_session=False)
        )
    db.session.delete(user)
    db.session.flush()


def drop_outbox_mail(email):
    """Outbox rows still naming the address (pending, failed); sent ones hold none."""
    db.session.execute(
        delete(OutboxMail)
        .where(func.lower(OutboxMail.recipient) == email.lower())
        .execution_options(synchronize_session=False)
    )


def anonymise_audit_events(user_id):
    """Keep the account's events (about it or by it) without IP and user agent."""
    db.session.execute(
        update(AuditEvent)
        .where(or_(AuditEvent.user_id == user_id, AuditEvent.actor_id == user_id))
        .values(ip=None, user_agent=None)
        .execution_options(synchronize_session=False)
    )


def purge_pending_deletions():
    """`flask auth purge`: erase the accounts whose grace period is over; one commit
    each. Returns how many."""
    cutoff = clock.now() - timedelta(
        days=current_app.config["ACCOUNT_DELETION_GRACE_DAYS"]
    )
    due = db.session.scalars(
        select(User.id).where(
            User.deletion_requested_at.is_not(None),
            User.deletion_requested_at <= cutoff,
        )
    ).all()
    db.session.rollback()
    erased = 0
    for user_id in due:
        user = db.session.get(User, user_id, with_for_update=True)
        # Signed in (restored) since the listing: kept.
        if user is None or user.deletion_requested_at is None:
            db.session.rollback()
            continue
        erase_account(user)
        db.session.commit()
        erased += 1
    return erased
