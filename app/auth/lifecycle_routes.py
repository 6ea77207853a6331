"""Email-change links (confirm, revert) and the verification resend: public endpoints.

Their rate limits are declared in app/ratelimit.py's table, not here.
"""

from flask import g, request

from app.auth import bp, email_change, email_verification
from app.auth.principal import authenticate_request
from app.openapi import examples as ex
from app.openapi.declare import body, operation, response
from app.openapi.examples import example
from app.schemas.auth import (
    EmailChangeTokenSchema,
    LogoutAllSchema,
    MessageSchema,
    VerifyResendSchema,
)
from app.schemas.user import UserDataSchema

LINK_ERRORS = {401: ["token_invalid", "token_expired"], 403: ["account_disabled"]}


def signed_in_caller():
    """The caller of an optional access token: (user, session id), else (None, None)."""
    if "Authorization" not in request.headers:
        return None, None
    authenticate_request()
    return g.current_user, g.current_session_id


@bp.post("/email/change/confirm")
@operation(
    tag="email",
    errors={
        **LINK_ERRORS,
        401: [*LINK_ERRORS[401], "token_revoked"],
        409: ["email_taken"],
    },
)
@response(
    UserDataSchema,
    examples={
        "changed": example(
            "Changed",
            {
                "user": {
                    **ex.USER,
                    "email": "ada@new.example.com",
                    "emailVerified": True,
                }
            },
        )
    },
)
@body(
    EmailChangeTokenSchema,
    examples={"confirm": example("Confirm", {"token": ex.MAILED_TOKEN})},
)
def confirm_email_change(body):
    """Confirm an email change with the token of its link.

    Switches the account to the new address (verified), ends the user's other
    sessions (all of them unless an access token of the account comes along in
    `Authorization`; another account's is 401 `token_invalid`) and mails the old
    address a revert link (`{FRONTEND_URL}/revert-email-change?token=...`, valid
    `EMAIL_REVERT_TTL`). Single use; dead once the password changed. 409
    `email_taken` when another account took the address meanwhile.
    """
    caller, session_id = signed_in_caller()
    user = email_change.confirm_change(
        token=body["token"], caller=caller, session_id=session_id
    )
    return {"user": user}


REVERTED = "The old email address is back and every session was signed out."


@bp.post("/email/change/revert")
@operation(tag="email", errors={**LINK_ERRORS, 409: ["email_taken"]})
@response(
    LogoutAllSchema,
    examples={"done": example("Reverted", {"message": REVERTED, "revoked": 2})},
)
@body(
    EmailChangeTokenSchema,
    examples={"revert": example("Revert", {"token": ex.MAILED_TOKEN})},
)
def revert_email_change(body):
    """Undo an email change with the revert link mailed to the old address.

    Restores the old address and ends every session of the account. Single use,
    valid `EMAIL_REVERT_TTL`; it outlives a password change.
    """
    return {"message": REVERTED, "revoked": email_change.revert_change(**body)}


RESEND_SENT = (
    "If an account with this email waits for its confirmation, a new link is on "
    "its way."
)


@bp.post("/email/verify/resend")
@operation(tag="email")
@response(
    MessageSchema,
    202,
    examples={"accepted": example("Accepted", {"message": RESEND_SENT})},
)
@body(
    VerifyResendSchema,
    examples={"resend": example("Resend", {"email": ex.EMAIL})},
)
def resend_email_verification(body):
    """Mail a new verification link to an address, without signing in.

    The same 202 for every address (no account enumeration); only an active,
    unverified account gets a mail. Rate limited per email and per client IP.
    """
    email_verification.request_resend(email=body["email"])
    return {"message": RESEND_SENT}
