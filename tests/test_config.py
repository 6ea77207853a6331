"""Settings: development secrets, production refusal, type helpers."""

import pytest

import config
from app import create_app
from app.auth.tokens import (
    REFRESH_TOKEN_TYPE,
    mint_access_token,
    mint_refresh_token,
    verify_access_token,
    verify_token,
)
from app.guard import UnsafeConfiguration

STRONG = "s" * 20 + "0123456789abcdefghij"


def test_development_generates_secrets_once(tmp_path, monkeypatch, database_url):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    first = create_app(
        {"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": database_url}
    )
    second = create_app(
        {"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": database_url}
    )
    assert first.config["JWT_SECRET_KEY"] == second.config["JWT_SECRET_KEY"]
    assert len(first.config["JWT_SECRET_KEY"]) >= 32
    assert (tmp_path / ".jwt_secret_key").stat().st_mode & 0o777 == 0o600


def test_development_secret_survives_restart_for_tokens(
    tmp_path, monkeypatch, database_url
):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    first = create_app(
        {"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": database_url}
    )
    with first.app_context():
        token = mint_access_token(subject="x", session_id="y")
        refresh = mint_refresh_token(subject="x", session_id="y", jti="j", ttl=60)
    second = create_app(
        {"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": database_url}
    )
    with second.app_context():
        assert verify_access_token(token)["sub"] == "x"
        assert verify_token(refresh, kinds={REFRESH_TOKEN_TYPE}).claims["jti"] == "j"


@pytest.mark.parametrize(
    ("secrets", "named"),
    [
        ({"JWT_SECRET_KEY": STRONG}, "SECRET_KEY"),
        ({"SECRET_KEY": STRONG}, "JWT_SECRET_KEY"),
        ({"SECRET_KEY": "short", "JWT_SECRET_KEY": STRONG}, "SECRET_KEY"),
        ({"SECRET_KEY": STRONG, "JWT_SECRET_KEY": "changeme"}, "JWT_SECRET_KEY"),
    ],
)
def test_production_refuses_weak_or_missing_secrets(
    monkeypatch, database_url, secrets, named
):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    overrides = {
        "APP_ENV": "production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": None,
        "JWT_SECRET_KEY": None,
        **secrets,
    }
    with pytest.raises(UnsafeConfiguration) as error:
        create_app(overrides)
    assert named in str(error.value)


def test_unknown_app_env_is_refused():
    with pytest.raises(RuntimeError, match="APP_ENV"):
        config.load_config({"APP_ENV": "staging"})


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", True),
        ("true", True),
        ("Yes", True),
        ("off", False),
        ("0", False),
        ("", None),
    ],
)
def test_as_bool(text, value):
    assert config.as_bool(text, default=None) is value


def test_as_bool_refuses_garbage():
    with pytest.raises(ValueError):
        config.as_bool("maybe")


def test_cookie_samesite_is_checked_at_start(monkeypatch):
    monkeypatch.setenv("COOKIE_SAMESITE", " lax ")
    assert config.load_config({"APP_ENV": "testing"})["COOKIE_SAMESITE"] == "Lax"
    monkeypatch.setenv("COOKIE_SAMESITE", "Strict ")
    assert config.load_config({"APP_ENV": "testing"})["COOKIE_SAMESITE"] == "Strict"
    monkeypatch.setenv("COOKIE_SAMESITE", "sometimes")
    with pytest.raises(ValueError, match="COOKIE_SAMESITE"):
        config.load_config({"APP_ENV": "testing"})
