"""Email verification: mail a link, confirm it."""

from flask import current_app

from app import clock, events
from app.auth import account_mail, account_tokens
from app.extensions import db
from app.models.one_time_token import PURPOSE_EMAIL_VERIFY


def request_verification(*, user):
    """Mail a new verification link (older ones stop working); none when verified."""
    if user.email_verified:
        return False
    account_tokens.void_tokens(user_id=user.id, purpose=PURPOSE_EMAIL_VERIFY)
    token = account_tokens.issue_token(
        user_id=user.id,
        purpose=PURPOSE_EMAIL_VERIFY,
        ttl_seconds=current_app.config["EMAIL_VERIFY_TTL"],
    )
    account_mail.queue_verify_email(user=user, token=token)
    db.session.commit()
    return True


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
