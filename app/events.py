"""Security events (login ok/failed, reuse detected, logout...): one call site each.

`emit` is the single seam for audit logs and metrics, so services never log or count
security events by hand.
"""

import logging

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


# The events that have a Prometheus counter (see app/observability/metrics.py).
COUNTERS = {
    LOGIN_OK: metrics.LOGINS.labels("ok"),
    LOGIN_FAILED: metrics.LOGINS.labels("failed"),
    REFRESHED: metrics.REFRESHES,
    REUSE_DETECTED: metrics.REUSE_DETECTIONS,
    RATE_LIMITED: metrics.RATE_LIMIT_HITS,
    MAIL_SENT: metrics.MAILS.labels("sent"),
    MAIL_FAILED: metrics.MAILS.labels("failed"),
    MAIL_DEFERRED: metrics.MAILS.labels("deferred"),
}


def emit(event, **fields):
    """Record one security event (a JSON log line, and its counter if it has one).

    `fields` must never hold a secret.
    """
    level = logging.WARNING if event in {REUSE_DETECTED, RATE_LIMITED} else logging.INFO
    log.log(level, event, extra={"event": event, "fields": fields})
    counter = COUNTERS.get(event)
    if counter is not None:
        counter.inc()
