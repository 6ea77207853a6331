"""The user's own security feed: their account's audit events, in plain words.

Read on a read-only connection: listing the feed writes nothing.
"""

from sqlalchemy import select

from app import events
from app.database import read_connection
from app.models import AuditEvent
from app.models.audit_event import ACTOR_ADMIN, ACTOR_SYSTEM
from app.pagination import cursor_key, decode_cursor, page
from app.user_agents import describe_device

EVENTS = AuditEvent.__table__
LISTING = "security-feed"
# What each event says to the account's owner.
WORDS = {
    events.REGISTERED: "Your account was created.",
    events.ACCOUNT_CREATED: "Your account was created.",
    events.LOGIN_OK: "You signed in.",
    events.LOGIN_FAILED: "Someone tried to sign in and failed.",
    events.REUSE_DETECTED: (
        "Someone used an old sign-in of yours; we signed that session out."
    ),
    events.LOGOUT: "You signed out.",
    events.LOGOUT_ALL: "You signed out everywhere.",
    events.SESSION_REVOKED: "A session was signed out.",
    events.PASSWORD_CHANGED: "Your password was changed.",
    events.RESET_REQUESTED: "A password-reset link was mailed to you.",
    events.RESET_COMPLETED: "Your password was reset.",
    events.EMAIL_VERIFIED: "Your email address was confirmed.",
    events.ACCOUNT_DEACTIVATED: "Your account was disabled.",
    events.ACCOUNT_ACTIVATED: "Your account was enabled again.",
    events.ROLE_CHANGED: "Your role was changed.",
    events.ADMIN_PASSWORD_RESET: "An administrator sent you a password-reset link.",
    events.COMPROMISE_REPORTED: (
        "You reported that it wasn't you; we signed every session out."
    ),
    events.MFA_ENABLED: "Two-factor sign-in was turned on.",
    events.MFA_DISABLED: "Two-factor sign-in was turned off.",
    events.MFA_FAILED: "A wrong two-factor code was entered.",
    events.MFA_STEPPED_UP: "You confirmed a sensitive action with your second factor.",
    events.RECOVERY_CODES_REGENERATED: "Your two-factor recovery codes were replaced.",
    events.PASSKEY_ADDED: "A passkey was added to your account.",
    events.PASSKEY_REMOVED: "A passkey was removed from your account.",
    events.PASSKEY_SIGN_IN: "You signed in with a passkey.",
    events.PASSKEY_CLONE_DETECTED: (
        "A copy of one of your passkeys was used; we refused that sign-in."
    ),
    events.EMAIL_CHANGE_REQUESTED: "A change of your email address was requested.",
    events.EMAIL_CHANGED: "Your email address was changed.",
    events.EMAIL_CHANGE_REVERTED: "A change of your email address was undone.",
    events.ACCOUNT_DELETION_REQUESTED: "You asked for your account to be deleted.",
    events.ACCOUNT_DELETED: "Your account was deleted.",
    events.ACCOUNT_RESTORED: "You signed in and your account was restored.",
    events.ACCOUNT_EXPORTED: "You downloaded a copy of your account's data.",
    events.IDENTITY_SIGN_IN: "You signed in with a sign-in provider.",
    events.IDENTITY_LINKED: "A sign-in provider was linked to your account.",
    events.IDENTITY_UNLINKED: "A sign-in provider was unlinked from your account.",
}
REASONS = {
    "wrong_password": "wrong password",
    "account_disabled": "the account is disabled",
    "no_password": "the account has no password",
}
BY = {ACTOR_ADMIN: "an administrator", ACTOR_SYSTEM: "the service"}
FEED_QUERY = (
    select(
        EVENTS.c.id,
        EVENTS.c.type,
        EVENTS.c.occurred_at,
        EVENTS.c.actor_type,
        EVENTS.c.ip,
        EVENTS.c.user_agent,
        EVENTS.c.details,
    )
    .where(EVENTS.c.type.in_(sorted(WORDS)))
    .order_by(EVENTS.c.id.desc())
)


def describe(row):
    text = WORDS[row.type]
    reason = REASONS.get((row.details or {}).get("reason"))
    if reason:
        text = f"{text.removesuffix('.')} ({reason})."
    return text


def entry(row):
    return {
        "id": row.id,
        "type": row.type,
        "description": describe(row),
        "occurred_at": row.occurred_at,
        "device": describe_device(row.user_agent),
        "ip": row.ip,
        "by": BY.get(row.actor_type, "you"),
    }


def security_events(*, user_id, query):
    """The user's events, newest first; `cursor` only pages this user's feed."""
    filters = {"user_id": str(user_id)}
    key = decode_cursor(LISTING, filters, query.get("cursor"))
    statement = FEED_QUERY.where(EVENTS.c.user_id == user_id)
    if key is not None:
        [last_id] = cursor_key(key, int)
        statement = statement.where(EVENTS.c.id < last_id)
    limit = query["limit"]
    with read_connection() as connection:
        rows = connection.execute(statement.limit(limit + 1)).all()
    shown, next_cursor = page(rows, limit, lambda row: [row.id], LISTING, filters)
    return {"events": [entry(row) for row in shown], "next_cursor": next_cursor}
