"""Security events (login ok/failed, reuse detected, logout...): one call site each.

`emit` is the single seam for the audit trail, logs and metrics, so services never
log, count or audit security events by hand. An audited event's row joins the
caller's transaction: services emit before their commit (docs/security.md).
"""

import logging

from app.audit import trail
from app.observability import metrics

log = logging.getLogger("app.security")

LOGIN_OK = "login_ok"
LOGIN_FAILED = "login_failed"
REGISTERED = "registered"
REFRESHED = "refreshed"
REUSE_DETECTED = "reuse_detected"
LOGOUT = "logout"
LOGOUT_ALL = "logout_all"
SESSION_REVOKED = "session_revoked"
RATE_LIMITED = "rate_limited"
PASSWORD_CHANGED = "password_changed"
RESET_REQUESTED = "password_reset_requested"
RESET_COMPLETED = "password_reset_completed"
EMAIL_VERIFIED = "email_verified"
MAIL_SENT = "mail_sent"
MAIL_FAILED = "mail_failed"
# A delivery attempt failed; the outbox retries the mail later.
MAIL_DEFERRED = "mail_deferred"
ACCOUNT_CREATED = "account_created"
ACCOUNT_DEACTIVATED = "account_deactivated"
ACCOUNT_ACTIVATED = "account_activated"
MFA_ENABLED = "mfa_enabled"
MFA_DISABLED = "mfa_disabled"
MFA_CHALLENGED = "mfa_challenged"
MFA_FAILED = "mfa_failed"
MFA_STEPPED_UP = "mfa_stepped_up"
RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated"
ROLE_CHANGED = "role_changed"
PASSKEY_ADDED = "passkey_added"
PASSKEY_REMOVED = "passkey_removed"
PASSKEY_SIGN_IN = "passkey_sign_in"
# A passkey's signature counter went backwards: a copy of the authenticator is in use.
PASSKEY_CLONE_DETECTED = "passkey_clone_detected"
# The account lifecycle (app/users/email_change.py, app/users/deletion.py).
EMAIL_CHANGE_REQUESTED = "email_change_requested"
EMAIL_CHANGED = "email_changed"
EMAIL_CHANGE_REVERTED = "email_change_reverted"
VERIFICATION_RESENT = "verification_resent"
ACCOUNT_DELETION_REQUESTED = "account_deletion_requested"
ACCOUNT_DELETED = "account_deleted"
ACCOUNT_RESTORED = "account_restored"
ACCOUNT_EXPORTED = "account_exported"
# Sign-in with a provider (app/oauth): a sign-in, an identity linked or unlinked.
IDENTITY_SIGN_IN = "identity_sign_in"
IDENTITY_LINKED = "identity_linked"
IDENTITY_UNLINKED = "identity_unlinked"
# The account's owner followed a "This wasn't me" link of an alert mail.
COMPROMISE_REPORTED = "compromise_reported"
# Admin API reads (app/admin): who looked at what is part of the trail too.
ADMIN_USERS_LISTED = "admin_users_listed"
ADMIN_USER_VIEWED = "admin_user_viewed"
ADMIN_AUDIT_LISTED = "admin_audit_listed"
ADMIN_PASSWORD_RESET = "admin_password_reset_sent"

# The events stored in the audit trail (app/audit), with the change they record.
AUDITED = frozenset(
    {
        REGISTERED,
        LOGIN_OK,
        LOGIN_FAILED,
        REUSE_DETECTED,
        LOGOUT,
        LOGOUT_ALL,
        SESSION_REVOKED,
        PASSWORD_CHANGED,
        RESET_REQUESTED,
        RESET_COMPLETED,
        EMAIL_VERIFIED,
        ACCOUNT_CREATED,
        ACCOUNT_DEACTIVATED,
        ACCOUNT_ACTIVATED,
        ROLE_CHANGED,
        COMPROMISE_REPORTED,
        ADMIN_USERS_LISTED,
        ADMIN_USER_VIEWED,
        ADMIN_AUDIT_LISTED,
        ADMIN_PASSWORD_RESET,
        MFA_ENABLED,
        MFA_DISABLED,
        MFA_FAILED,
        MFA_STEPPED_UP,
        RECOVERY_CODES_REGENERATED,
        PASSKEY_ADDED,
        PASSKEY_REMOVED,
        PASSKEY_SIGN_IN,
        PASSKEY_CLONE_DETECTED,
        EMAIL_CHANGE_REQUESTED,
        EMAIL_CHANGED,
        EMAIL_CHANGE_REVERTED,
        ACCOUNT_DELETION_REQUESTED,
        ACCOUNT_DELETED,
        ACCOUNT_RESTORED,
        ACCOUNT_EXPORTED,
        IDENTITY_SIGN_IN,
        IDENTITY_LINKED,
        IDENTITY_UNLINKED,
    }
)


# The events that have a Prometheus counter (see app/observability/metrics.py).
COUNTERS = {
    LOGIN_OK: metrics.LOGINS.labels("ok"),
    PASSKEY_SIGN_IN: metrics.LOGINS.labels("ok"),
    LOGIN_FAILED: metrics.LOGINS.labels("failed"),
    REFRESHED: metrics.REFRESHES,
    REUSE_DETECTED: metrics.REUSE_DETECTIONS,
    RATE_LIMITED: metrics.RATE_LIMIT_HITS,
    MAIL_SENT: metrics.MAILS.labels("sent"),
    MAIL_FAILED: metrics.MAILS.labels("failed"),
    MAIL_DEFERRED: metrics.MAILS.labels("deferred"),
}


def emit(event, *, actor=None, **fields):
    """Record one security event: a JSON log line, its counter, its audit row.

    The audit row (of an AUDITED event about an account, or by an admin) is added to
    `db.session`: call this inside the transaction of the change, before its commit.
    `actor`: a `trail.Actor`; by default the user of `user_id`, else the system.
    `fields` must never hold a secret or a token.
    """
    warned = {REUSE_DETECTED, RATE_LIMITED, PASSKEY_CLONE_DETECTED}
    level = logging.WARNING if event in warned else logging.INFO
    logged = fields if actor is None else {**fields, "actor": actor.kind}
    log.log(level, event, extra={"event": event, "fields": logged})
    if event in AUDITED and (fields.get("user_id") or actor is not None):
        trail.record(event, actor=actor, fields=fields)
    counter = COUNTERS.get(event)
    if counter is not None:
        counter.inc()
