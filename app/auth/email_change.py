"""Changing the account's email: request, confirm (new address), revert (old address).

One pending change per account: a new request voids the older confirm links. The
confirm link goes to the new address (`{FRONTEND_URL}/confirm-email-change`), a notice
to the old one; confirming mails the old address a revert link valid EMAIL_REVERT_TTL
with the "This wasn't me" link of the alerts. A new address of another account gets
the same 202 and no link (no enumeration); confirming onto an address someone took
meanwhile is 409 email_taken. Each step is one transaction.
"""

from flask import current_app

from app import clock, events
from app.auth import account_mail, account_tokens, alerts, mfa, passwords, sessions
from app.auth.services import email_must_be_free, find_user_by_email
from app.errors import (
    EmailTaken,
    TokenInvalid,
    ValidationFailed,
    WrongOldPassword,
)
from app.extensions import db
from app.models import User
from app.models.one_time_token import (
    PURPOSE_EMAIL_CHANGE,
    PURPOSE_EMAIL_REVERT,
    PURPOSE_EMAIL_VERIFY,
    PURPOSE_PASSWORD_RESET,
)

SAME_EMAIL = "This is the account's email address already."
OTHER_ACCOUNT = "This link belongs to another account."


def request_change(*, user, access_claims, new_email, password):
    """Mail a confirm link to `new_email` (unless another account has it) and a
    notice to the current address; 202 either way."""
    if not passwords.verify_password(password, user.password_hash):
        raise WrongOldPassword()
    mfa.require_recent_factor(user=user, claims=access_claims)
    if new_email == user.email.lower():
        raise ValidationFailed(details={"newEmail": [SAME_EMAIL]})
    account_tokens.void_tokens(user_id=user.id, purpose=PURPOSE_EMAIL_CHANGE)
    if find_user_by_email(new_email) is None:
        token = account_tokens.issue_token(
            user_id=user.id,
            purpose=PURPOSE_EMAIL_CHANGE,
            ttl_seconds=current_app.config["EMAIL_CHANGE_TTL"],
            email=new_email,
        )
        account_mail.queue_email_change_confirm(
            user=user, new_email=new_email, token=token
        )
    account_mail.queue_email_change_requested(user=user)
    events.emit(events.EMAIL_CHANGE_REQUESTED, user_id=str(user.id))
    db.session.commit()


def token_user(*, token, purpose, caller):
    """(token, user) of a mailed link, locked for the change; `caller`: the signed-in
    user who follows it, if any (another account's is refused)."""
    record, user = account_tokens.find_token_user(raw=token, purpose=purpose)
    if caller is not None and caller.id != user.id:
        raise TokenInvalid(OTHER_ACCOUNT)
    # A confirm link dies with the password it was asked with; a revert link must
    # outlive a password changed by whoever took the account.
    stale = purpose == PURPOSE_EMAIL_CHANGE and (
        record.created_at < user.password_changed_at
    )
    if user.deletion_pending or stale:
        raise TokenInvalid(account_tokens.INVALID_MESSAGE)
    account_tokens.spend_token(record)
    user = db.session.get(User, user.id, with_for_update=True, populate_existing=True)
    if user is None:
        db.session.rollback()
        raise TokenInvalid(account_tokens.INVALID_MESSAGE)
    return record, user


def switch_email(user, email):
    """Give the user `email`, verified (the link reached it); 409 when taken."""
    other = find_user_by_email(email)
    if other is not None and other.id != user.id:
        db.session.rollback()
        raise EmailTaken()
    now = clock.now()
    user.email = email
    user.email_verified_at = now
    user.updated_at = now


def confirm_change(*, token, caller=None, session_id=None):
    """Switch to the new address; end the other sessions; mail the old address the
    revert link. Returns the user."""
    record, user = token_user(token=token, purpose=PURPOSE_EMAIL_CHANGE, caller=caller)
    old_email = user.email
    switch_email(user, record.email)
    # Links mailed to the old address belong to it, not to the account.
    for purpose in (PURPOSE_EMAIL_VERIFY, PURPOSE_PASSWORD_RESET):
        account_tokens.void_tokens(user_id=user.id, purpose=purpose)
    revoked = sessions.revoke_user_sessions(
        user_id=user.id,
        reason=sessions.REVOKED_EMAIL_CHANGED,
        keep_session_id=session_id if caller is not None else None,
    )
    revert_token = account_tokens.issue_token(
        user_id=user.id,
        purpose=PURPOSE_EMAIL_REVERT,
        ttl_seconds=current_app.config["EMAIL_REVERT_TTL"],
        email=old_email,
    )
    account_mail.queue_email_changed(
        user=user,
        old_email=old_email,
        revert_token=revert_token,
        alert=alerts.alert_context(user),
    )
    events.emit(events.EMAIL_CHANGED, user_id=str(user.id), sessions_revoked=revoked)
    with email_must_be_free():
        db.session.commit()
    return user


def revert_change(*, token):
    """Give the account its old address back and end every session; returns how
    many ended."""
    record, user = token_user(token=token, purpose=PURPOSE_EMAIL_REVERT, caller=None)
    switch_email(user, record.email)
    for purpose in (PURPOSE_EMAIL_CHANGE, PURPOSE_EMAIL_VERIFY, PURPOSE_PASSWORD_RESET):
        account_tokens.void_tokens(user_id=user.id, purpose=purpose)
    revoked = sessions.revoke_user_sessions(
        user_id=user.id, reason=sessions.REVOKED_EMAIL_REVERTED
    )
    events.emit(
        events.EMAIL_CHANGE_REVERTED, user_id=str(user.id), sessions_revoked=revoked
    )
    with email_must_be_free():
        db.session.commit()
    return revoked
