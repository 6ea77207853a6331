"""Helpers for the password and email-verification tests."""

from urllib.parse import parse_qs, urlsplit

FRONTEND_URL = "https://app.example.test"
NEW_PASSWORD = "a brand new passphrase 42"


def token_of(link):
    """The `token` query parameter of a mailed link."""
    values = parse_qs(urlsplit(link).query)["token"]
    assert len(values) == 1
    return values[0]


def events_of(caplog, name):
    """The fields of every security event `name` logged so far."""
    return [
        record.fields
        for record in caplog.records
        if getattr(record, "event", None) == name
    ]


def assert_no_secret_logged(caplog, *secrets):
    """None of the secrets appears in any log line or event field."""
    for record in caplog.records:
        text = record.getMessage() + repr(getattr(record, "fields", ""))
        for secret in secrets:
            assert secret not in text, record.getMessage()
