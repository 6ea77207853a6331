"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, on a free port.

`mailbox` hands a test the mails that crossed SMTP (parsed: subject, text, HTML, the
link) and the settings that point the app at the server; `closed_smtp_port` is a port
where nothing listens ("the mail server is down").
"""

import logging
import re
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from app import mail
from tests.servers import free_port

LINK = re.compile(r"https?://[^\s\"<>]+")
WAIT_SECONDS = 10


@dataclass
class ReceivedMail:
    """One mail as the SMTP server received it."""

    mail_from: str
    rcpt_tos: list
    message: object

    @property
    def subject(self):
        return self.message["Subject"]

    @property
    def to(self):
        return self.message["To"]

    @property
    def text(self):
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self):
        return self.message.get_body(("html",)).get_content()

    def links(self, prefix=""):
        """The links of the plain-text part that start with `prefix`."""
        return [link for link in LINK.findall(self.text) if link.startswith(prefix)]

    def link(self, prefix):
        """The one link starting with `prefix` (it must appear in both parts)."""
        found = self.links(prefix)
        assert len(found) == 1, (prefix, self.text)
        assert found[0].replace("&", "&amp;") in self.html
        return found[0]


class Sink:
    """aiosmtpd handler: keep every message."""

    def __init__(self):
        self.received = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.received.append(
                ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message)
            )
        return "250 Message accepted for delivery"


class Mailbox:
    """What one test sees of the SMTP server."""

    def __init__(self, sink, port):
        self.sink = sink
        self.port = port

    @property
    def settings(self):
        """App settings that send mail here, with tiny retry delays."""
        return {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": self.port,
            "MAIL_USE_TLS": False,
            "MAIL_USE_SSL": False,
            "MAIL_TIMEOUT": 5,
            "MAIL_RETRY_BACKOFF_MS": 1,
        }

    @property
    def messages(self):
        """Every mail received so far, after the app's outbox has drained."""
        drained()
        with self.sink.lock:
            return list(self.sink.received)

    def clear(self):
        drained()
        with self.sink.lock:
            self.sink.received.clear()

    def wait_for(self, count=1, timeout=WAIT_SECONDS):
        """Wait until at least `count` mails arrived; returns them all."""
        deadline = time.monotonic() + timeout
        while True:
            received = self.messages
            if len(received) >= count or time.monotonic() > deadline:
                assert len(received) >= count, f"{len(received)} of {count} mails"
                return received
            time.sleep(0.01)

    def to(self, address):
        return [m for m in self.messages if address in m.rcpt_tos]


def drained(timeout=WAIT_SECONDS):
    assert mail.join_outbox(timeout), "the mail outbox did not drain"


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_call(item):
    """Drain the outbox before the call phase ends: the sender's logs stay captured."""
    yield
    if "mailbox" in getattr(item, "fixturenames", ()):
        mail.join_outbox(WAIT_SECONDS)


@pytest.fixture(scope="session")
def smtp_server():
    """One aiosmtpd server for the whole run."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's chatter
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield Mailbox(sink, controller.port)
    controller.stop()


@pytest.fixture
def mailbox(smtp_server):
    """The SMTP server, emptied for this test (mails of earlier tests drained first)."""
    smtp_server.clear()
    yield smtp_server
    drained()


@pytest.fixture
def mail_settings(mailbox):
    """Settings for the `settings` fixture: the app mails to `mailbox`."""
    return mailbox.settings


@pytest.fixture
def closed_smtp_port():
    """A port on 127.0.0.1 where no SMTP server listens."""
    return free_port()
