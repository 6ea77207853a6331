"""The mail module: message, SMTP (plain, STARTTLS, SSL, login), error kinds."""

import datetime
import ipaddress
import logging
import smtplib
import ssl

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app import mail
from tests.mailserver import Sink
from tests.servers import free_port

SENDER = "Auth Server <no-reply@auth.example.test>"


def message(to="ada@example.com"):
    return mail.build_message(
        sender=SENDER, to=to, subject="Hello", text="plain body", html="<p>html</p>"
    )


def smtp_settings(port, **changes):
    values = {"host": "127.0.0.1", "port": port, "timeout": 5}
    return mail.SmtpSettings(**{**values, **changes})


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


def test_message_id_can_be_fixed_in_advance():
    fixed = mail.new_message_id(SENDER)
    assert fixed.endswith("@auth.example.test>")
    built = mail.build_message(
        sender=SENDER, to="a@b.co", subject="s", text="t", html="h", message_id=fixed
    )
    assert built["Message-ID"] == fixed


def test_errors_are_described_without_the_servers_text():
    refused = smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"x@example.com")})
    assert mail.describe_error(refused) == "SMTPRecipientsRefused 550"
    busy = smtplib.SMTPDataError(451, b"try again, x@example.com")
    assert mail.describe_error(busy) == "SMTPDataError 451"
    assert mail.describe_error(ConnectionRefusedError()) == "ConnectionRefusedError"


def test_temporary_and_permanent_answers():
    assert not mail.is_permanent(smtplib.SMTPDataError(451, b"later"))
    assert mail.is_permanent(smtplib.SMTPDataError(554, b"no"))
    assert not mail.is_permanent(ConnectionRefusedError())
    mixed = smtplib.SMTPRecipientsRefused({"a@b.co": (550, b""), "c@d.co": (450, b"")})
    assert not mail.is_permanent(mixed)


def test_log_mail_writes_the_mail(caplog):
    caplog.set_level(logging.INFO, logger="app.mail")
    built = mail.build_message(
        sender=SENDER,
        to="ada@example.com",
        subject="Subject line",
        text="Open https://app.example.test/x?token=abc",
        html="<p>html</p>",
    )
    mail.log_mail(built, kind="test")
    assert "https://app.example.test/x?token=abc" in caplog.text
    assert "To: ada@example.com" in caplog.text
