""" "This wasn't me": lock an account out of every session and start a reset."""

from app import events
from app.auth import account_mail, account_tokens, sessions
from app.extensions import db
from app.models.one_time_token import (
    PURPOSE_COMPROMISED,
    PURPOSE_EMAIL_CHANGE,
    PURPOSE_EMAIL_VERIFY,
    PURPOSE_PASSWORD_RESET,
)

REVOKED_COMPROMISED = "compromised"


def report_compromise(*, token):
    """Follow an alert's link: one transaction, all of it or nothing.

    Ends every session, voids outstanding reset, verification and email-change links
    (and the other alert links), queues a password-reset mail and records the event.
    A used, expired or unknown token is 401 and changes nothing. Returns the sessions
    ended.
    """
    record, user = account_tokens.find_token_user(
        raw=token, purpose=PURPOSE_COMPROMISED
    )
    # Spends this link and voids the user's other alert links.
    account_tokens.spend_token(record)
    for purpose in (PURPOSE_PASSWORD_RESET, PURPOSE_EMAIL_VERIFY, PURPOSE_EMAIL_CHANGE):
        account_tokens.void_tokens(user_id=user.id, purpose=purpose)
    revoked = sessions.revoke_user_sessions(user_id=user.id, reason=REVOKED_COMPROMISED)
    account_mail.queue_password_reset(email=user.email)
    events.emit(
        events.COMPROMISE_REPORTED, user_id=str(user.id), sessions_revoked=revoked
    )
    db.session.commit()
    return revoked
