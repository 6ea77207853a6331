"""Outgoing mail: `send_mail` is the one way out, off the request path.

With `MAIL_SERVER` set, each mail is queued for a background sender thread that talks
SMTP (SSL or STARTTLS, login when configured) with a few retries; an HTTP answer never
waits on the mail server. Without it (development) the mail is written to the log.
"""

import atexit
import logging
import os
import queue
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from flask import current_app

from app import events

log = logging.getLogger(__name__)

# On a clean exit, queued mails get this long to leave before the process ends.
SHUTDOWN_DRAIN_SECONDS = 5.0


@dataclass(frozen=True)
class SmtpSettings:
    """What the sender thread needs, copied from the config when a mail is queued."""

    host: str
    port: int
    use_tls: bool = False
    use_ssl: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0
    max_attempts: int = 3
    backoff: float = 1.0

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
            max_attempts=max(1, config["MAIL_MAX_ATTEMPTS"]),
            backoff=max(0, config["MAIL_RETRY_BACKOFF_MS"]) / 1000,
        )


@dataclass(frozen=True)
class Job:
    message: EmailMessage
    settings: SmtpSettings
    kind: str


def build_message(*, sender, to, subject, text, html):
    """A multipart/alternative message: the plain-text body and its HTML twin."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    # An explicit domain: make_msgid would otherwise ask DNS for this host's name.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send_mail(*, to, subject, text, html, kind="mail"):
    """Send one mail without waiting for it; False when it could not even be queued.

    `kind` names the mail in events and logs (never the token or link).
    """
    config = current_app.config
    message = build_message(
        sender=config["MAIL_DEFAULT_SENDER"],
        to=to,
        subject=subject,
        text=text,
        html=html,
    )
    if not config["MAIL_SERVER"]:
        return log_mail(message, kind=kind, app_env=config["APP_ENV"])
    job = Job(message=message, settings=SmtpSettings.from_config(config), kind=kind)
    return get_outbox(config["MAIL_QUEUE_SIZE"]).submit(job)


def log_mail(message, *, kind, app_env):
    """Development without MAIL_SERVER: the log line is the mail (link included)."""
    if app_env == "production":
        # The body holds a live link; production logs must not become a mailbox.
        log.error("MAIL_SERVER is not set: a %s mail was not sent", kind)
        events.emit(events.MAIL_FAILED, kind=kind, reason="no_mail_server")
        return False
    body = message.get_body(("plain",)).get_content()
    log.info(
        "MAIL_SERVER is not set; development mail follows.\nTo: %s\nSubject: %s\n\n%s",
        message["To"],
        message["Subject"],
        body,
    )
    events.emit(events.MAIL_SENT, kind=kind, transport="log")
    return True


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


def deliver_with_retries(job, *, sleep=time.sleep):
    """Try a job up to `max_attempts` times, backing off; emits MAIL_SENT/FAILED."""
    settings = job.settings
    for attempt in range(1, settings.max_attempts + 1):
        try:
            deliver(job.message, settings)
        except (smtplib.SMTPException, OSError) as error:
            if is_permanent(error) or attempt == settings.max_attempts:
                log.warning(
                    "%s mail not delivered after %d attempt(s): %s",
                    job.kind,
                    attempt,
                    type(error).__name__,
                )
                events.emit(
                    events.MAIL_FAILED,
                    kind=job.kind,
                    attempts=attempt,
                    error=type(error).__name__,
                )
                return False
            sleep(settings.backoff * 2 ** (attempt - 1))
        else:
            events.emit(events.MAIL_SENT, kind=job.kind, attempts=attempt)
            return True
    return False


class Outbox:
    """A bounded queue drained by one daemon thread of this process."""

    def __init__(self, maxsize):
        self.pid = os.getpid()
        self.queue = queue.Queue(maxsize=max(1, maxsize))
        self.thread = threading.Thread(
            target=self._run, name="mail-sender", daemon=True
        )

    def start(self):
        self.thread.start()
        return self

    def submit(self, job):
        """Queue a job; when the queue is full the mail is dropped and logged."""
        try:
            self.queue.put_nowait(job)
        except queue.Full:
            log.error(
                "mail queue full (%d): a %s mail dropped", self.queue.maxsize, job.kind
            )
            events.emit(events.MAIL_FAILED, kind=job.kind, reason="queue_full")
            return False
        return True

    def join(self, timeout=None):
        """Wait until every queued mail was handled; False when `timeout` ran out."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.queue.all_tasks_done:
            while self.queue.unfinished_tasks:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self.queue.all_tasks_done.wait(remaining)
        return True

    def _run(self):
        while True:
            job = self.queue.get()
            try:
                deliver_with_retries(job)
            except Exception:  # the sender must outlive any one bad mail
                log.exception("mail sender failed on a %s mail", job.kind)
                events.emit(events.MAIL_FAILED, kind=job.kind, reason="crash")
            finally:
                self.queue.task_done()


_outbox = None
_outbox_lock = threading.Lock()


def get_outbox(maxsize):
    """This process's outbox, its sender thread started on first use."""
    # First use happens in a gunicorn worker, never at import in the master; and a
    # forked child re-creates it, since a fork does not copy threads.
    global _outbox
    if _outbox is None or _outbox.pid != os.getpid():
        with _outbox_lock:
            if _outbox is None or _outbox.pid != os.getpid():
                _outbox = Outbox(maxsize).start()
    return _outbox


def join_outbox(timeout=None):
    """Wait until this process's queued mails were handled (tests, shutdown)."""
    outbox = _outbox
    if outbox is None or outbox.pid != os.getpid():
        return True
    return outbox.join(timeout)


def _forget_outbox_in_child():
    # A fork copies the queue and the lock but not the thread: start afresh.
    global _outbox, _outbox_lock
    _outbox = None
    _outbox_lock = threading.Lock()


_process_hooks_installed = False


def install_process_hooks():
    """Once per process (`create_app` calls it): fork and exit hooks of the outbox.

    A forked child forgets the parent's outbox; a clean exit gives queued mails
    SHUTDOWN_DRAIN_SECONDS to leave. A child inherits both hooks with the flag.
    """
    global _process_hooks_installed
    if _process_hooks_installed:
        return
    _process_hooks_installed = True
    os.register_at_fork(after_in_child=_forget_outbox_in_child)
    atexit.register(join_outbox, SHUTDOWN_DRAIN_SECONDS)
