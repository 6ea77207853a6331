"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, on a free port.

`mailbox` hands a test the mails that crossed SMTP (parsed: subject, text, HTML, the
link), after running the app's outbox sender synchronously (`deliver_due`);
`mail_settings` point the app at the server; `closed_smtp_port` is a port where
nothing listens ("the mail server is down").
"""

import logging
import re
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from app.outbox.sender import deliver_due
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
    def message_id(self):
        return self.message["Message-ID"]

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


def smtp_settings(port):
    """App settings that send mail to 127.0.0.1:port, with tiny retry delays."""
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_TIMEOUT": 5,
        "MAIL_RETRY_BACKOFF_MS": 1,
    }


@dataclass
class SmtpServer:
    sink: Sink
    port: int


class Mailbox:
    """What one test sees of the SMTP server, through one app's outbox."""

    def __init__(self, server, app):
        self.sink = server.sink
        self.port = server.port
        self.app = app

    @property
    def settings(self):
        return smtp_settings(self.port)

    def deliver(self):
        """Run the app's outbox sender until nothing is due."""
        return deliver_due(self.app)

    @property
    def messages(self):
        """Every mail received so far, after the app's outbox has been delivered."""
        self.deliver()
        with self.sink.lock:
            return list(self.sink.received)

    def clear(self):
        self.deliver()
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


@pytest.fixture(scope="session")
def smtp_server():
    """One aiosmtpd server for the whole run."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's chatter
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield SmtpServer(sink, controller.port)
    controller.stop()


@pytest.fixture
def mail_settings(smtp_server):
    """Settings for the `settings` fixture: the app mails to the test SMTP server."""
    return smtp_settings(smtp_server.port)


@pytest.fixture
def mailbox(smtp_server, app):
    """The SMTP server, emptied for this test, seen through the test's app."""
    with smtp_server.sink.lock:
        smtp_server.sink.received.clear()
    return Mailbox(smtp_server, app)


@pytest.fixture
def closed_smtp_port():
    """A port on 127.0.0.1 where no SMTP server listens."""
    return free_port()
