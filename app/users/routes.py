"""Profile endpoints."""

from flask import g

from app.auth import email_change
from app.auth.principal import access_token_required
from app.openapi import examples as ex
from app.openapi.declare import ACCESS, body, operation, query, response
from app.openapi.examples import example
from app.schemas.auth import AccountDeletionSchema, EmailChangeSchema, MessageSchema
from app.schemas.user import (
    AccountDeletionDataSchema,
    AccountExportSchema,
    SecurityEventListSchema,
    SecurityFeedQuerySchema,
    UpdateProfileSchema,
    UserDataSchema,
)
from app.users import bp, deletion, export, security_feed, services


@bp.get("/me")
@operation(tag="users", security=ACCESS, operation_id="getMe")
@response(UserDataSchema, examples={"me": example("Profile", {"user": ex.USER})})
@access_token_required
def me():
    """The caller's profile.

    The user of the access token, as the server has it now.
    """
    return {"user": g.current_user}


@bp.patch("/me")
@operation(tag="users", security=ACCESS)
@response(
    UserDataSchema,
    examples={"me": example("Profile", {"user": {**ex.USER, "name": "Ada King"}})},
)
@access_token_required
@body(
    UpdateProfileSchema,
    examples={
        "rename": example("Rename", {"name": "Ada King"}),
        "picture": example(
            "Set a picture", {"profilePicture": "https://example.com/ada.png"}
        ),
    },
)
def update_me(body):
    """Change the caller's name or profile picture.

    Any of `name` and `profilePicture` (an http(s) URL; null or "" removes it); at
    least one; other fields are 400 `validation_error`.
    """
    return {"user": services.update_profile(user=g.current_user, changes=body)}


@bp.get("/me/security-events")
@operation(tag="users", security=ACCESS, operation_id="listSecurityEvents")
@response(SecurityEventListSchema)
@access_token_required
@query(SecurityFeedQuerySchema)
def security_events(query):
    """The caller's account security history, newest first.

    Sign-ins (and failed attempts), sign-outs, password and email changes, refresh
    reuse and admin actions on the account, each with the device (from the user
    agent) and the client IP as stored. Paginated with `cursor`: a cursor of
    another account is 400 `invalid_cursor`.
    """
    return security_feed.security_events(user_id=g.current_user.id, query=query)


EMAIL_CHANGE_SENT = (
    "If the new address can be used, a confirmation link is on its way to it; "
    "nothing changes until it is followed."
)


@bp.post("/me/email")
@operation(
    tag="email",
    security=ACCESS,
    errors={400: ["invalid_credentials"], 403: ["mfa_required"]},
    device_cookie=True,
)
@response(
    MessageSchema,
    202,
    examples={"accepted": example("Accepted", {"message": EMAIL_CHANGE_SENT})},
)
@access_token_required
@body(
    EmailChangeSchema,
    examples={
        "change": example(
            "Change", {"newEmail": "ada@new.example.com", "password": ex.PASSWORD}
        )
    },
)
def change_email(body):
    """Ask to change the account's email address.

    Needs the current password (400 `invalid_credentials`, counted like a password
    change's) and, with two-factor sign-in on, a recent second factor (403
    `mfa_required`). Mails `{FRONTEND_URL}/confirm-email-change?token=...` to the new
    address and a notice to the current one. The same 202 when the new address
    belongs to another account (no mail goes to it). The current address, in any
    case, is 400 `validation_error`. One pending change per account: a new request
    voids the older link.
    """
    email_change.request_change(
        user=g.current_user,
        access_claims=g.access_claims,
        new_email=body["new_email"],
        password=body["password"],
    )
    return {"message": EMAIL_CHANGE_SENT}


@bp.delete("/me")
@operation(
    tag="users",
    security=ACCESS,
    errors={400: ["invalid_credentials"], 403: ["mfa_required"]},
    device_cookie=True,
    operation_id="deleteMe",
)
@response(
    AccountDeletionDataSchema,
    examples={
        "deleted": example(
            "Deleted",
            {
                "message": deletion.DELETED,
                "deletionPending": False,
                "purgeAfter": None,
            },
        )
    },
)
@access_token_required
@body(
    AccountDeletionSchema,
    examples={"delete": example("Delete", {"password": ex.PASSWORD})},
)
def delete_me(body):
    """Delete the caller's account.

    Needs the password (400 `invalid_credentials`, counted like a password change's)
    and, with two-factor sign-in on, a recent second factor (403 `mfa_required`).
    Ends every session; deletes the profile, sessions, one-time links, MFA secrets
    and passkeys; keeps the account's security events without IP or user agent;
    frees the email; mails a goodbye notice. With `ACCOUNT_DELETION_GRACE_DAYS` the
    account waits instead (`deletionPending: true`): signing in restores it, `flask
    auth purge` deletes it after `purgeAfter`.
    """
    outcome = deletion.request_deletion(
        user=g.current_user, access_claims=g.access_claims, password=body["password"]
    )
    message = deletion.SCHEDULED if outcome.deletion_pending else deletion.DELETED
    return {
        "message": message,
        "deletion_pending": outcome.deletion_pending,
        "purge_after": outcome.purge_after,
    }


@bp.get("/me/export")
@operation(
    tag="users",
    security=ACCESS,
    errors={403: ["mfa_required"]},
    operation_id="exportMe",
)
@response(AccountExportSchema)
@access_token_required
def export_me():
    """Download everything the server holds about the caller.

    Profile, MFA status, sessions, passkey metadata and security events, as JSON;
    never a secret, a hash or a token. With two-factor sign-in on, the access token
    must show a recent second factor (403 `mfa_required`).
    """
    return export.export_account(user=g.current_user, access_claims=g.access_claims)
