"""The passkey settings: defaults from FRONTEND_URL, and production's RP id check."""

import pytest

from app.guard import production_problems
from config import load_config
from tests.helpers import production_settings


def test_the_relying_party_defaults_to_the_frontend(make_app):
    app = make_app(FRONTEND_URL="https://app.example.com/")
    assert app.config["WEBAUTHN_RP_ID"] == "app.example.com"
    assert app.config["WEBAUTHN_ORIGINS"] == ["https://app.example.com"]
    set_apart = make_app(
        WEBAUTHN_RP_ID="example.com",
        WEBAUTHN_ORIGINS=["https://app.example.com", "https://www.example.com"],
    )
    assert set_apart.config["WEBAUTHN_RP_ID"] == "example.com"
    assert len(set_apart.config["WEBAUTHN_ORIGINS"]) == 2


def problems(**overrides):
    """Production's problems with these settings (defaults filled in as at startup)."""
    return production_problems(load_config(production_settings(**overrides)))


def test_production_accepts_the_frontend_host_or_a_parent_domain():
    assert problems() == []
    assert problems(WEBAUTHN_RP_ID="example.com") == []


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"WEBAUTHN_RP_ID": "other.example"}, "WEBAUTHN_RP_ID is other.example"),
        ({"WEBAUTHN_RP_ID": "ple.com"}, "WEBAUTHN_RP_ID is ple.com"),
        ({"WEBAUTHN_RP_ID": "127.0.0.1"}, "WEBAUTHN_RP_ID is 127.0.0.1"),
        (
            {"WEBAUTHN_ORIGINS": ["http://app.example.com"]},
            "WEBAUTHN_ORIGINS allows http://app.example.com",
        ),
        (
            {"WEBAUTHN_ORIGINS": ["https://evil.example"]},
            "WEBAUTHN_ORIGINS allows https://evil.example",
        ),
    ],
)
def test_production_refuses_a_relying_party_off_the_frontend(overrides, named):
    [problem] = problems(**overrides)
    assert named in problem
