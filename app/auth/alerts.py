"""Security alerts mailed to the user, each with a "This wasn't me" link.

Each alert is queued in the caller's transaction (the outbox), with a single-use,
expiring token stored only as its hash (app/auth/account_tokens.py); following the
link is `POST /api/v1/auth/compromised` (app/auth/compromise.py). Each alert has its
setting (ALERT_*).
"""

from flask import current_app

from app import clock, outbox
from app.auth import account_tokens
from app.auth.account_mail import describe_duration, frontend_link, render
from app.models.one_time_token import PURPOSE_COMPROMISED
from app.user_agents import describe_device

KIND_NEW_SIGN_IN = "new_sign_in"
KIND_REFRESH_REUSE = "refresh_reuse"
COMPROMISED_PATH = "/this-wasnt-me"


def compromised_link(user):
    """A new "This wasn't me" link for the user (its token added, not committed)."""
    token = account_tokens.issue_token(
        user_id=user.id,
        purpose=PURPOSE_COMPROMISED,
        ttl_seconds=current_app.config["COMPROMISED_LINK_TTL"],
    )
    return frontend_link(COMPROMISED_PATH, token=token)


def alert_context(user):
    return {
        "compromised_link": compromised_link(user),
        "valid_for": describe_duration(current_app.config["COMPROMISED_LINK_TTL"]),
        "when": clock.now().strftime("%Y-%m-%d %H:%M UTC"),
    }


def queue_new_sign_in(*, user, user_agent, ip):
    """A sign-in from a device without a known device token of this account."""
    if not current_app.config["ALERT_NEW_DEVICE"]:
        return None
    content = render(
        user=user,
        subject="New sign-in to your account",
        template="new_sign_in",
        device=describe_device(user_agent) or "an unknown device",
        ip=ip or "an unknown address",
        **alert_context(user),
    )
    return outbox.enqueue(content, kind=KIND_NEW_SIGN_IN)


def queue_refresh_reuse(*, user):
    """An old refresh token was replayed; its session was signed out."""
    if not current_app.config["ALERT_REFRESH_REUSE"]:
        return None
    content = render(
        user=user,
        subject="We signed out a session of yours",
        template="refresh_reuse",
        **alert_context(user),
    )
    return outbox.enqueue(content, kind=KIND_REFRESH_REUSE)


def mfa_disabled_context(user):
    """The "This wasn't me" link of the MFA-turned-off notice, if enabled."""
    if not current_app.config["ALERT_MFA_DISABLED"]:
        return {}
    return alert_context(user)


def password_changed_context(user):
    """The "This wasn't me" link of the password-changed notice, if enabled."""
    if not current_app.config["ALERT_PASSWORD_CHANGED"]:
        return {}
    return alert_context(user)
