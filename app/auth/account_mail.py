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


def render(*, user, subject, template, **context):
    """The MailContent of one account mail to `user`."""
    context = {
        "subject": subject,
        "name": user.name,
        "email": user.email,
        "frontend_url": current_app.config["FRONTEND_URL"],
        **context,
    }
    # .html templates autoescape, so a name like "<script>" stays text in the HTML part.
    return outbox.MailContent(
        to=user.email,
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


def queue_verify_email(*, user, token):
    """Queue the verification link `{FRONTEND_URL}/verify-email?token=...`."""
    content = render(
        user=user,
        subject="Confirm your email address",
        template="verify_email",
        link=frontend_link("/verify-email", token=token),
        valid_for=describe_duration(current_app.config["EMAIL_VERIFY_TTL"]),
    )
    return outbox.enqueue(content, kind=KIND_VERIFY_EMAIL)


def queue_mfa_changed(*, user, enabled, device):
    """Queue the notice that two-factor sign-in was turned on or off."""
    state = "on" if enabled else "off"
    content = render(
        user=user,
        subject=f"Two-factor sign-in was turned {state}",
        template="mfa_changed",
        state=state,
        when=clock.now().strftime("%Y-%m-%d %H:%M UTC"),
        device=device or "an unknown device",
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
