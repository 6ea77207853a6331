"""SMTP transport: build a message, hand it to the mail server, or log it in dev.

Mails are never sent from a request: services add them to the outbox (app/outbox),
whose sender calls `deliver` (or `log_mail` without `MAIL_SERVER`).
"""

import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the mail server, from the config (`MAIL_*`)."""

    host: str
    port: int
    use_tls: bool = False
    use_ssl: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config):
        """The SMTP settings of an app config (`MAIL_*`)."""
        return cls(
            host=config["MAIL_SERVER"],
            port=config["MAIL_PORT"],
            use_tls=config["MAIL_USE_TLS"],
            use_ssl=config["MAIL_USE_SSL"],
            username=config["MAIL_USERNAME"],
            password=config["MAIL_PASSWORD"],
            timeout=config["MAIL_TIMEOUT"],
        )


def new_message_id(sender):
    """A unique Message-ID in the sender's domain."""
    # An explicit domain: make_msgid would otherwise ask DNS for this host's name.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    # make_msgid's own randomness is the `random` module's, which tests (Hypothesis)
    # and forked workers may share: a uuid4 (os.urandom) keeps the IDs unique.
    return make_msgid(idstring=uuid.uuid4().hex, domain=domain)


def build_message(*, sender, to, subject, text, html, message_id=None):
    """A multipart/alternative message: the plain-text body and its HTML twin."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id or new_message_id(sender)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def log_mail(message, *, kind):
    """Development without MAIL_SERVER: the log line is the mail (link included)."""
    body = message.get_body(("plain",)).get_content()
    log.info(
        "MAIL_SERVER is not set; development mail follows.\nTo: %s\nSubject: %s\n\n%s",
        message["To"],
        message["Subject"],
        body,
    )


def tls_context():
    """The TLS context for SSL and STARTTLS: system CAs, hostname checked."""
    return ssl.create_default_context()


def deliver(message, settings):
    """Hand one message to the SMTP server (raises on failure)."""
    if settings.use_ssl:
        smtp = smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            timeout=settings.timeout,
            context=tls_context(),
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with smtp:
        if settings.use_tls and not settings.use_ssl:
            # Raises when the server offers no STARTTLS: never fall back to plain text.
            smtp.starttls(context=tls_context())
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(message)


def is_permanent(error):
    """A 5xx answer (bad recipient, refused login...) will not improve with a retry."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 500 <= error.smtp_code < 600
    return isinstance(error, smtplib.SMTPNotSupportedError)


def describe_error(error):
    """The error's type and SMTP code: no server text, which may quote the mail."""
    name = type(error).__name__
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{name} {error.smtp_code}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        return f"{name} {','.join(map(str, codes))}"
    return name
