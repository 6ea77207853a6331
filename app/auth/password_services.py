"""Password reset (request, confirm) and password change."""

from flask import current_app

from app import clock, events
from app.auth import account_mail, account_tokens, alerts, mfa, passwords, sessions
from app.auth.services import find_user_by_email
from app.errors import WrongOldPassword
from app.extensions import db
from app.models import User
from app.models.one_time_token import PURPOSE_PASSWORD_RESET


def request_password_reset(*, email):
    """Queue a reset request; the sender mails a link if the account is active.

    Known, unknown or disabled email: the same INSERT and commit here and the same
    202, so neither the answer nor its timing tells which accounts exist. The
    lookup, the token and the mail happen in the sender (`prepare_password_reset`).
    """
    account_mail.queue_password_reset(email=email)
    db.session.commit()


def prepare_password_reset(email):
    """The outbox sender's half of a reset request: token and mail, or None.

    Runs in the sender's transaction: the token commits with the mail carrying it.
    """
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        events.emit(events.RESET_REQUESTED, user_id=None)
        return None
    token = account_tokens.issue_token(
        user_id=user.id,
        purpose=PURPOSE_PASSWORD_RESET,
        ttl_seconds=current_app.config["PASSWORD_RESET_TTL"],
    )
    events.emit(events.RESET_REQUESTED, user_id=str(user.id))
    return account_mail.password_reset_mail(user=user, token=token)


def reset_password(*, token, new_password):
    """Set a new password with a reset token; ends every session, does not log in."""
    record, user = account_tokens.find_token_user(
        raw=token, purpose=PURPOSE_PASSWORD_RESET
    )
    # Policy before spending the token: a refused password leaves the link usable.
    passwords.check_policy(new_password, email=user.email, field="newPassword")
    new_hash = passwords.hash_password(
        new_password, current_app.config["BCRYPT_ROUNDS"]
    )
    # The write transaction begins here, after bcrypt.
    account_tokens.spend_token(record)
    user = db.session.merge(user, load=False)
    now = clock.now()
    user.password_hash = new_hash
    user.password_changed_at = now
    user.updated_at = now
    if user.email_verified_at is None:
        # The link reached this mailbox: that proves the address as well.
        user.email_verified_at = now
    revoked = sessions.revoke_user_sessions(
        user_id=user.id, reason=sessions.REVOKED_PASSWORD_RESET
    )
    account_mail.queue_password_changed(
        user=user, via_reset=True, alert=alerts.password_changed_context(user)
    )
    events.emit(events.RESET_COMPLETED, user_id=str(user.id), sessions_revoked=revoked)
    db.session.commit()


def change_password(
    *, user, current_session_id, access_claims, old_password, new_password
):
    """Replace the password after checking the old one; ends the other sessions.

    With MFA on, the access token must show a recent second factor (step-up).
    """
    verified_hash = user.password_hash
    mfa.check_password(user, old_password, access_claims)
    mfa.require_recent_factor(user=user, claims=access_claims)
    passwords.check_policy(new_password, email=user.email, field="newPassword")
    new_hash = passwords.hash_password(
        new_password, current_app.config["BCRYPT_ROUNDS"]
    )
    # Locked and read again: a reset that committed while bcrypt ran wins, the old
    # password (checked against the hash before it) no longer changes anything.
    user = db.session.get(User, user.id, with_for_update=True, populate_existing=True)
    if user.password_hash != verified_hash:
        db.session.rollback()
        raise WrongOldPassword()
    now = clock.now()
    user.password_hash = new_hash
    user.password_changed_at = now
    user.updated_at = now
    # A pending reset link was meant for the old password: it dies with it.
    account_tokens.void_tokens(user_id=user.id, purpose=PURPOSE_PASSWORD_RESET)
    revoked = sessions.revoke_user_sessions(
        user_id=user.id,
        reason=sessions.REVOKED_PASSWORD_CHANGE,
        keep_session_id=current_session_id,
    )
    account_mail.queue_password_changed(
        user=user, alert=alerts.password_changed_context(user)
    )
    events.emit(
        events.PASSWORD_CHANGED,
        user_id=str(user.id),
        session_id=str(current_session_id),
        sessions_revoked=revoked,
    )
    db.session.commit()
