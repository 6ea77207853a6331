"""Email verification: mail a link, confirm it."""

from flask import current_app
from sqlalchemy import func, select

from app import clock, events
from app.auth import account_mail, account_tokens
from app.extensions import db
from app.models import User
from app.models.one_time_token import PURPOSE_EMAIL_VERIFY


def new_verification_token(user):
    """A new verification token for the user; older ones stop working (no commit)."""
    account_tokens.void_tokens(user_id=user.id, purpose=PURPOSE_EMAIL_VERIFY)
    return account_tokens.issue_token(
        user_id=user.id,
        purpose=PURPOSE_EMAIL_VERIFY,
        ttl_seconds=current_app.config["EMAIL_VERIFY_TTL"],
    )


def queue_verification(*, user):
    """Queue a new verification link for the user, in the caller's transaction."""
    account_mail.queue_verify_email(user=user, token=new_verification_token(user))


def request_verification(*, user):
    """Mail a new verification link (older ones stop working); none when verified."""
    if user.email_verified:
        return False
    queue_verification(user=user)
    db.session.commit()
    return True


def request_resend(*, email):
    """POST /email/verify/resend: queue a request; the sender mails a link, if due.

    Known, unknown, verified or disabled address: the same INSERT and commit and the
    same 202 (as a reset request); `prepare_verification_resend` decides later.
    """
    account_mail.queue_verification_resend(email=email)
    db.session.commit()


def prepare_verification_resend(email):
    """The outbox sender's half of a resend: the token and mail, or None."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if (
        user is None
        or not user.is_active
        or user.email_verified
        or user.deletion_pending
    ):
        events.emit(events.VERIFICATION_RESENT, sent=False)
        return None
    token = new_verification_token(user)
    events.emit(events.VERIFICATION_RESENT, sent=True)
    return account_mail.verify_email_mail(user=user, token=token)


def confirm_verification(*, token):
    """Mark the token's user verified; returns the user."""
    record, user = account_tokens.find_token_user(
        raw=token, purpose=PURPOSE_EMAIL_VERIFY
    )
    account_tokens.spend_token(record)
    user = db.session.merge(user, load=False)
    if user.email_verified_at is None:
        now = clock.now()
        user.email_verified_at = now
        user.updated_at = now
    events.emit(events.EMAIL_VERIFIED, user_id=str(user.id))
    db.session.commit()
    return user
