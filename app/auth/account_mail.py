"""The account mails (reset link, password changed, verify email), built and queued.

Each goes into the outbox in the caller's transaction (app/outbox); nothing here
commits or talks SMTP.

Links start with FRONTEND_URL, never with the request's Host: a forged Host header must
not turn a reset mail into a link to someone else's site.
"""

from urllib.parse import urlencode

from flask import current_app, render_template

from app import clock, outbox

KIND_PASSWORD_RESET = "password_reset"
KIND_PASSWORD_CHANGED = "password_changed"
KIND_VERIFY_EMAIL = "verify_email"
KIND_MFA_CHANGED = "mfa_changed"
KIND_PASSKEY_CHANGED = "passkey_changed"
# A verification link asked for by address (POST /email/verify/resend): a request row
# the sender turns into a mail, or none (`prepare_verification_resend`).
KIND_VERIFY_RESEND = "verify_email_resend"
KIND_EMAIL_CHANGE_CONFIRM = "email_change_confirm"
KIND_EMAIL_CHANGE_REQUESTED = "email_change_requested"
KIND_EMAIL_CHANGED = "email_changed"
KIND_ACCOUNT_DELETED = "account_deleted"
KIND_DELETION_SCHEDULED = "account_deletion_scheduled"


def frontend_link(path, **params):
    """`{FRONTEND_URL}{path}?{params}`."""
    base = current_app.config["FRONTEND_URL"].rstrip("/")
    return f"{base}{path}?{urlencode(params)}"


def describe_duration(seconds):
    """30 minutes, 24 hours, 3 days... for the mail text."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        # "24 hours" reads better than "1 day" for a link's lifetime.
        if seconds >= size * (2 if unit == "day" else 1) and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"


def render(*, user, subject, template, to=None, **context):
    """The MailContent of one account mail to `user` (at `to`, else their email)."""
    to = to or user.email
    context = {
        "subject": subject,
        "name": user.name,
        "email": to,
        "frontend_url": current_app.config["FRONTEND_URL"],
        **context,
    }
    # .html templates autoescape, so a name like "<script>" stays text in the HTML part.
    return outbox.MailContent(
        to=to,
        subject=subject,
        text=render_template(f"mail/{template}.txt", **context),
        html=render_template(f"mail/{template}.html", **context),
    )


def queue_password_reset(*, email):
    """Queue a reset request for `email`; the sender makes the mail, if any
    (`password_reset_mail`), so the request path does the same work either way."""
    return outbox.enqueue_request(kind=KIND_PASSWORD_RESET, to=email)


def password_reset_mail(*, user, token):
    """The reset link mail `{FRONTEND_URL}/reset-password?token=...`."""
    return render(
        user=user,
        subject="Reset your password",
        template="password_reset",
        link=frontend_link("/reset-password", token=token),
        valid_for=describe_duration(current_app.config["PASSWORD_RESET_TTL"]),
    )


def queue_password_changed(*, user, via_reset=False, alert=None):
    """Queue the notice that the password was changed (or reset).

    `alert`: the "This wasn't me" context (app/auth/alerts.py), if any.
    """
    when = clock.now().strftime("%Y-%m-%d %H:%M UTC")
    content = render(
        user=user,
        subject="Your password was changed",
        template="password_changed",
        via_reset=via_reset,
        **{"when": when, **(alert or {})},
    )
    return outbox.enqueue(content, kind=KIND_PASSWORD_CHANGED)


def verify_email_mail(*, user, token):
    """The verification link mail `{FRONTEND_URL}/verify-email?token=...`."""
    return render(
        user=user,
        subject="Confirm your email address",
        template="verify_email",
        link=frontend_link("/verify-email", token=token),
        valid_for=describe_duration(current_app.config["EMAIL_VERIFY_TTL"]),
    )


def queue_verify_email(*, user, token):
    """Queue the verification link mail."""
    return outbox.enqueue(
        verify_email_mail(user=user, token=token), kind=KIND_VERIFY_EMAIL
    )


def queue_verification_resend(*, email):
    """Queue a resend request for `email`; the sender makes the mail, if any."""
    return outbox.enqueue_request(kind=KIND_VERIFY_RESEND, to=email)


def now_text():
    return clock.now().strftime("%Y-%m-%d %H:%M UTC")


def queue_mfa_changed(*, user, enabled, device, alert=None):
    """Queue the notice that two-factor sign-in was turned on or off.

    `alert`: the "This wasn't me" context (app/auth/alerts.py), if any.
    """
    state = "on" if enabled else "off"
    content = render(
        user=user,
        subject=f"Two-factor sign-in was turned {state}",
        template="mfa_changed",
        state=state,
        device=device or "an unknown device",
        **{"when": now_text(), **(alert or {})},
    )
    return outbox.enqueue(content, kind=KIND_MFA_CHANGED)


def queue_passkey_changed(*, user, added, name, device):
    """Queue the notice that a passkey was added to the account or removed."""
    change = "added to" if added else "removed from"
    content = render(
        user=user,
        subject=f"A passkey was {change} your account",
        template="passkey_changed",
        change=change,
        passkey_name=name,
        when=clock.now().strftime("%Y-%m-%d %H:%M UTC"),
        device=device or "an unknown device",
    )
    return outbox.enqueue(content, kind=KIND_PASSKEY_CHANGED)


def queue_email_change_confirm(*, user, new_email, token):
    """The confirm link `{FRONTEND_URL}/confirm-email-change?token=...`, to the new
    address."""
    content = render(
        user=user,
        to=new_email,
        subject="Confirm your new email address",
        template="email_change_confirm",
        new_email=new_email,
        link=frontend_link("/confirm-email-change", token=token),
        valid_for=describe_duration(current_app.config["EMAIL_CHANGE_TTL"]),
    )
    return outbox.enqueue(content, kind=KIND_EMAIL_CHANGE_CONFIRM)


def queue_email_change_requested(*, user):
    """The notice to the current address that a change was asked for."""
    content = render(
        user=user,
        subject="A change of your email address was requested",
        template="email_change_requested",
        when=now_text(),
    )
    return outbox.enqueue(content, kind=KIND_EMAIL_CHANGE_REQUESTED)


def queue_email_changed(*, user, old_email, revert_token, alert):
    """The notice to the old address: the revert link and "This wasn't me"."""
    content = render(
        user=user,
        to=old_email,
        subject="Your email address was changed",
        template="email_changed",
        new_email=user.email,
        revert_link=frontend_link("/revert-email-change", token=revert_token),
        revert_valid_for=describe_duration(current_app.config["EMAIL_REVERT_TTL"]),
        **alert,
    )
    return outbox.enqueue(content, kind=KIND_EMAIL_CHANGED)


def queue_account_deleted(*, user):
    """The goodbye notice (rendered before the account's rows go)."""
    content = render(
        user=user,
        subject="Your account was deleted",
        template="account_deleted",
        when=now_text(),
    )
    return outbox.enqueue(content, kind=KIND_ACCOUNT_DELETED)


def queue_deletion_scheduled(*, user, purge_after):
    """The notice that the account waits for deletion; signing in restores it."""
    content = render(
        user=user,
        subject="Your account will be deleted",
        template="account_deletion_scheduled",
        when=now_text(),
        purge_after=purge_after.strftime("%Y-%m-%d %H:%M UTC"),
    )
    return outbox.enqueue(content, kind=KIND_DELETION_SCHEDULED)
