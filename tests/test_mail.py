"""The mail module: message, SMTP (plain, STARTTLS, SSL, login), retries, queue."""

import datetime
import ipaddress
import logging
import os
import smtplib
import ssl

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app import events, mail
from tests.mailserver import Sink
from tests.servers import free_port

SENDER = "Auth Server <no-reply@auth.example.test>"


def message(to="ada@example.com"):
    return mail.build_message(
        sender=SENDER, to=to, subject="Hello", text="plain body", html="<p>html</p>"
    )


def smtp_settings(port, **changes):
    values = {"host": "127.0.0.1", "port": port, "timeout": 5, "backoff": 0.001}
    return mail.SmtpSettings(**{**values, **changes})


def events_of(caplog, name):
    return [r.fields for r in caplog.records if getattr(r, "event", None) == name]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (server context, client context)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_file.write_bytes(cert_pem)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client


class Accounts:
    """aiosmtpd authenticator that accepts one login and records every attempt."""

    def __init__(self, username, password):
        self.expected = (username.encode(), password.encode())
        self.attempts = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        pair = (auth_data.login, auth_data.password)
        self.attempts.append((mechanism, pair))
        # handled=False: aiosmtpd answers the refusal (535) itself.
        return AuthResult(success=pair == self.expected, handled=False)


@pytest.fixture
def smtp_factory():
    """Start aiosmtpd servers with given options; all stopped after the test."""
    controllers = []

    def start(**options):
        sink = Sink()
        controller = Controller(sink, hostname="127.0.0.1", port=free_port(), **options)
        controller.start()
        controllers.append(controller)
        return sink, controller.port

    yield start
    for controller in controllers:
        controller.stop()


def test_message_has_text_and_html_alternatives():
    built = message()
    assert built.get_content_type() == "multipart/alternative"
    assert built.get_body(("plain",)).get_content().strip() == "plain body"
    assert built.get_body(("html",)).get_content().strip() == "<p>html</p>"
    assert built["From"] == SENDER
    assert built["Message-ID"].endswith("@auth.example.test>")
    assert built["Date"]


def test_deliver_plain_smtp(smtp_factory):
    sink, port = smtp_factory()
    mail.deliver(message(), smtp_settings(port))
    [received] = sink.received
    assert received.rcpt_tos == ["ada@example.com"]
    assert received.message["Subject"] == "Hello"


def test_deliver_starttls_and_login(smtp_factory, certificate, monkeypatch):
    server_context, client_context = certificate
    accounts = Accounts("mailer", "s3cret-pass")
    sink, port = smtp_factory(
        tls_context=server_context,
        require_starttls=True,
        authenticator=accounts,
        auth_required=True,
    )
    monkeypatch.setattr(mail, "tls_context", lambda: client_context)
    settings = smtp_settings(
        port, use_tls=True, username="mailer", password="s3cret-pass"
    )
    mail.deliver(message(), settings)
    assert len(sink.received) == 1
    assert [pair for _, pair in accounts.attempts] == [(b"mailer", b"s3cret-pass")]
    assert "s3cret-pass" not in repr(settings)


def test_wrong_login_is_a_permanent_failure(smtp_factory, certificate, monkeypatch):
    server_context, client_context = certificate
    sink, port = smtp_factory(
        tls_context=server_context,
        require_starttls=True,
        authenticator=Accounts("mailer", "right"),
        auth_required=True,
    )
    monkeypatch.setattr(mail, "tls_context", lambda: client_context)
    settings = smtp_settings(port, use_tls=True, username="mailer", password="wrong")
    with pytest.raises(smtplib.SMTPAuthenticationError) as failure:
        mail.deliver(message(), settings)
    assert mail.is_permanent(failure.value)
    assert sink.received == []


def test_deliver_implicit_ssl(smtp_factory, certificate, monkeypatch):
    server_context, client_context = certificate
    sink, port = smtp_factory(ssl_context=server_context)
    monkeypatch.setattr(mail, "tls_context", lambda: client_context)
    mail.deliver(message(), smtp_settings(port, use_ssl=True))
    assert len(sink.received) == 1


def test_ssl_refuses_an_untrusted_certificate(smtp_factory, certificate):
    server_context, _ = certificate
    sink, port = smtp_factory(ssl_context=server_context)
    with pytest.raises(ssl.SSLError):
        mail.deliver(message(), smtp_settings(port, use_ssl=True))
    assert sink.received == []


def test_starttls_not_offered_never_falls_back_to_plain(smtp_factory):
    sink, port = smtp_factory()
    with pytest.raises(smtplib.SMTPNotSupportedError) as failure:
        mail.deliver(message(), smtp_settings(port, use_tls=True))
    assert mail.is_permanent(failure.value)
    assert sink.received == []


def job(settings, kind="test"):
    return mail.Job(message=message(), settings=settings, kind=kind)


def test_retries_with_backoff_then_success(monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    calls, sleeps = [], []

    def flaky(msg, settings):
        calls.append(msg)
        if len(calls) < 3:
            raise ConnectionRefusedError()

    monkeypatch.setattr(mail, "deliver", flaky)
    settings = smtp_settings(1, max_attempts=3, backoff=0.5)
    assert mail.deliver_with_retries(job(settings), sleep=sleeps.append)
    assert len(calls) == 3
    assert sleeps == [0.5, 1.0]
    assert events_of(caplog, events.MAIL_SENT) == [{"kind": "test", "attempts": 3}]


def test_gives_up_after_max_attempts(monkeypatch, caplog, closed_smtp_port):
    caplog.set_level(logging.INFO)
    sleeps = []
    settings = smtp_settings(closed_smtp_port, max_attempts=4, backoff=0.25)
    assert not mail.deliver_with_retries(job(settings), sleep=sleeps.append)
    assert sleeps == [0.25, 0.5, 1.0]
    assert events_of(caplog, events.MAIL_FAILED) == [
        {"kind": "test", "attempts": 4, "error": "ConnectionRefusedError"}
    ]


def test_a_refused_recipient_is_not_retried(monkeypatch):
    calls = []

    def refused(msg, settings):
        calls.append(msg)
        raise smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"no such user")})

    monkeypatch.setattr(mail, "deliver", refused)
    assert not mail.deliver_with_retries(job(smtp_settings(1)), sleep=lambda s: None)
    assert len(calls) == 1


def test_a_temporary_failure_is_retried(monkeypatch):
    calls = []

    def busy(msg, settings):
        calls.append(msg)
        raise smtplib.SMTPDataError(451, b"try again later")

    monkeypatch.setattr(mail, "deliver", busy)
    settings = smtp_settings(1, max_attempts=2)
    assert not mail.deliver_with_retries(job(settings), sleep=lambda s: None)
    assert len(calls) == 2


def test_full_queue_drops_and_logs(caplog):
    caplog.set_level(logging.INFO)
    outbox = mail.Outbox(maxsize=2)  # never started: nothing drains it
    settings = smtp_settings(1)
    assert outbox.submit(job(settings))
    assert outbox.submit(job(settings))
    assert not outbox.submit(job(settings, kind="third"))
    assert "mail queue full (2): a third mail dropped" in caplog.text
    assert {"kind": "third", "reason": "queue_full"} in events_of(
        caplog, events.MAIL_FAILED
    )
    assert not outbox.join(timeout=0.01)


def test_sender_survives_a_crash_and_keeps_going(monkeypatch, smtp_factory, caplog):
    sink, port = smtp_factory()
    real_deliver = mail.deliver

    def deliver(msg, settings):
        if msg["Subject"] == "boom":
            raise RuntimeError("unexpected")
        real_deliver(msg, settings)

    monkeypatch.setattr(mail, "deliver", deliver)
    outbox = mail.Outbox(maxsize=10).start()
    boom = message()
    boom.replace_header("Subject", "boom")
    outbox.submit(mail.Job(message=boom, settings=smtp_settings(port), kind="boom"))
    outbox.submit(job(smtp_settings(port)))
    assert outbox.join(timeout=5)
    assert len(sink.received) == 1
    assert "mail sender failed on a boom mail" in caplog.text


def test_outbox_thread_is_a_daemon_started_on_first_use(app, smtp_factory):
    sink, port = smtp_factory()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    with app.test_request_context():
        mail.send_mail(to="ada@example.com", subject="s", text="t", html="<p>h</p>")
    outbox = mail.get_outbox(1)
    assert outbox.thread.daemon and outbox.thread.is_alive()
    assert outbox.thread.name == "mail-sender"
    assert outbox.pid == os.getpid()
    assert mail.join_outbox(5)
    assert len(sink.received) == 1


def test_a_forked_worker_starts_its_own_sender(app, smtp_factory):
    sink, port = smtp_factory()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    parent_outbox = mail.get_outbox(10)
    pid = os.fork()
    if pid == 0:  # the child, as a gunicorn worker would be
        code = 1
        try:
            if mail._outbox is None:
                with app.test_request_context():
                    mail.send_mail(to="w@example.com", subject="s", text="t", html="h")
                child = mail.get_outbox(10)
                drained = mail.join_outbox(5)
                if child is not parent_outbox and child.thread.is_alive() and drained:
                    code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert [m.rcpt_tos for m in sink.received] == [["w@example.com"]]
    assert mail.get_outbox(10) is parent_outbox


def test_join_outbox_without_an_outbox_is_immediate(monkeypatch):
    monkeypatch.setattr(mail, "_outbox", None)
    assert mail.join_outbox(0)


def test_send_mail_without_server_logs_in_development(app, caplog):
    caplog.set_level(logging.INFO, logger="app.mail")
    app.config["MAIL_SERVER"] = None
    with app.test_request_context():
        sent = mail.send_mail(
            to="ada@example.com",
            subject="Subject line",
            text="Open https://app.example.test/x?token=abc",
            html="<p>html</p>",
        )
    assert sent
    assert "https://app.example.test/x?token=abc" in caplog.text
    assert "To: ada@example.com" in caplog.text
