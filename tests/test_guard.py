"""Production refuses unsafe settings; `flask auth doctor` prints the same checks.

On refused settings the doctor runs in the maintenance app (`flask --app maintenance`).
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app, create_maintenance_app
from app.guard import UnsafeConfiguration, production_problems
from tests.auth.keys.support import key_pair
from tests.servers import ROOT

FLASK = Path(sys.executable).with_name("flask")
SECRET = secrets.token_urlsafe(48)
SAFE = {
    "APP_ENV": "production",
    "SECRET_KEY": SECRET,
    "JWT_SECRET_KEY": secrets.token_urlsafe(48),
    "JWT_ALGORITHM": "HS256",
    "COOKIE_SECURE": True,
    "CSRF_PROTECT": True,
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "WEB_CONCURRENCY": 1,
    "SERVER_WORKERS": 1,
    "DEBUG": False,
    "BCRYPT_ROUNDS": 12,
    "FRONTEND_URL": "https://app.example.com",
    "MAIL_SERVER": "smtp.example.com",
    "COOKIE_SAMESITE": "Strict",
    "CORS_ORIGINS": ["https://app.example.com"],
}


@pytest.fixture
def production(make_app):
    """create_app in production on the test's database, with overrides."""
    return lambda **overrides: make_app(**{**SAFE, **overrides})


def test_production_starts_with_safe_settings(production):
    assert production().config["APP_ENV"] == "production"


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "change-me"}, "SECRET_KEY is too weak"),
        ({"JWT_SECRET_KEY": None}, "JWT_SECRET_KEY is not set"),
        ({"JWT_SECRET_KEY": "x" * 20}, "JWT_SECRET_KEY is too weak"),
        ({"JWT_PREVIOUS_SECRET_KEYS": ["dev"]}, "JWT_PREVIOUS_SECRET_KEYS"),
        ({"JWT_ALGORITHM": "RS256"}, "JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE"),
        ({"JWT_ALGORITHM": "none"}, "JWT_ALGORITHM must be one of"),
        ({"COOKIE_SECURE": False}, "COOKIE_SECURE is false"),
        ({"CSRF_PROTECT": False}, "CSRF_PROTECT is false"),
        ({"SECRET_KEY": "ab" * 24}, "SECRET_KEY has too little entropy"),
        ({"JWT_SECRET_KEY": "x" * 48}, "JWT_SECRET_KEY has too little entropy"),
        ({"JWT_SECRET_KEY": SECRET}, "SECRET_KEY equals JWT_SECRET_KEY"),
        ({"RATELIMIT_ENABLED": False}, "RATELIMIT_ENABLED is false"),
        ({"FRONTEND_URL": "http://app.example.com"}, "FRONTEND_URL is http://"),
        ({"FRONTEND_URL": ""}, "FRONTEND_URL is unset"),
        ({"MAIL_SERVER": None}, "MAIL_SERVER is not set"),
        ({"COOKIE_SAMESITE": "None"}, "COOKIE_SAMESITE is None"),
        ({"CORS_ORIGINS": ["http://app.example.com"]}, "CORS_ORIGINS allows http://"),
        ({"DEBUG": True}, "FLASK_DEBUG"),
        ({"BCRYPT_ROUNDS": 9}, "BCRYPT_ROUNDS=9 is under 10"),
    ],
)
def test_production_refuses_unsafe_setting(production, overrides, named):
    with pytest.raises(UnsafeConfiguration, match="Refusing to start") as refused:
        production(**overrides)
    assert named in str(refused.value)


def test_every_problem_is_named_at_once(production):
    with pytest.raises(UnsafeConfiguration) as refused:
        production(COOKIE_SECURE=False, CSRF_PROTECT=False, BCRYPT_ROUNDS=4)
    for name in ("COOKIE_SECURE", "CSRF_PROTECT", "BCRYPT_ROUNDS"):
        assert name in str(refused.value)


def test_asymmetric_signing_needs_a_private_key_not_a_jwt_secret(production):
    app = production(
        JWT_SECRET_KEY=None, JWT_ALGORITHM="ES256", JWT_PRIVATE_KEY=key_pair("ES256")[0]
    )
    assert app.extensions["signing_keys"].algorithm == "ES256"


def test_memory_limits_are_judged_by_the_real_worker_count():
    assert production_problems({**SAFE, "SERVER_WORKERS": 1}) == []
    [problem] = production_problems({**SAFE, "SERVER_WORKERS": 3})
    assert "memory:// with 3 gunicorn workers" in problem
    redis = {**SAFE, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"}
    assert production_problems({**redis, "SERVER_WORKERS": 8}) == []


@pytest.mark.live_server
def test_gunicorn_refuses_memory_limits_with_several_workers(tmp_path):
    """`-w 2` on the command line: WEB_CONCURRENCY (1) is not what gunicorn runs."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RATELIMIT_")},
        **{k: str(v) for k, v in SAFE.items() if isinstance(v, str)},
        "CORS_ORIGINS": "https://app.example.com",
        "COOKIE_SECURE": "true",
        "RATELIMIT_ENABLED": "true",
        "WEB_CONCURRENCY": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'guard.db'}",
        "BIND": "127.0.0.1:0",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-w", "2"]
        + ["--no-control-socket", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "memory:// with 2 gunicorn workers" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("FLASK_DEBUG", "1", "FLASK_DEBUG"),
        ("DEBUG", "true", "FLASK_DEBUG"),
        ("FRONTEND_URL", "http://localhost:3000", "FRONTEND_URL is http://"),
    ],
)
def test_environment_variables_reach_the_guard(
    production, monkeypatch, variable, value, named
):
    monkeypatch.setenv(variable, value)
    overrides = {
        key: val
        for key, val in SAFE.items()
        if key not in {"DEBUG", "WEB_CONCURRENCY", "FRONTEND_URL"}
    }
    with pytest.raises(UnsafeConfiguration) as refused:
        create_app({**overrides, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert named in str(refused.value)


def test_other_environments_only_warn(database_url):
    app = create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "COOKIE_SECURE": False,
        }
    )
    assert app.config["COOKIE_SECURE"] is False


def test_refusal_names_the_maintenance_doctor(production):
    with pytest.raises(UnsafeConfiguration) as refused:
        production(COOKIE_SECURE=False)
    assert "flask --app maintenance auth doctor" in str(refused.value)


def test_maintenance_app_starts_on_refused_settings_with_two_commands(database_url):
    app = create_maintenance_app(
        {**SAFE, "COOKIE_SECURE": False, "SQLALCHEMY_DATABASE_URI": database_url}
    )
    assert list(app.url_map.iter_rules()) == []  # serves nothing
    groups = {name: sorted(group.commands) for name, group in app.cli.commands.items()}
    assert groups == {"auth": ["doctor"], "keys": ["generate"]}


def test_doctor_in_testing_advises_and_exits_zero(runner):
    result = runner.invoke(args=["auth", "doctor"])
    assert result.exit_code == 0, result.output
    assert "APP_ENV=testing" in result.output
    for setting in (
        "SECRET_KEY",
        "JWT_SECRET_KEY",
        "JWT keys",
        "COOKIE_SECURE",
        "CSRF_PROTECT",
        "RATELIMIT_STORAGE_URI",
        "FLASK_DEBUG",
    ):
        assert f"PASS  {setting}" in result.output
    assert "FAIL  BCRYPT_ROUNDS" in result.output  # cost 4 in testing
    assert "would fail in production" in result.output


def test_doctor_in_production_passes_when_safe(production):
    result = production().test_cli_runner().invoke(args=["auth", "doctor"])
    assert result.exit_code == 0, result.output
    assert "All checks pass." in result.output
    assert "FAIL" not in result.output
    assert SECRET not in result.output


def test_doctor_in_production_fails_naming_the_settings(database_url):
    app = create_maintenance_app(
        {
            **SAFE,
            "COOKIE_SECURE": False,
            "SECRET_KEY": "secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
        }
    )
    result = app.test_cli_runner().invoke(args=["auth", "doctor"])
    assert result.exit_code == 1, result.output
    assert "FAIL  COOKIE_SECURE" in result.output
    assert "FAIL  SECRET_KEY" in result.output
    assert "PASS  CSRF_PROTECT" in result.output
    assert "refuses to start" in result.output


def test_real_cli_doctor_runs_where_the_server_would_not(tmp_path):
    env = {
        **os.environ,
        "FLASK_APP": "wsgi.py",
        "APP_ENV": "production",
        "SECRET_KEY": SECRET,
        "JWT_SECRET_KEY": SECRET,
        "JWT_ALGORITHM": "HS256",
        "COOKIE_SECURE": "false",
        "CSRF_PROTECT": "true",
        "RATELIMIT_STORAGE_URI": "memory://",
        "WEB_CONCURRENCY": "4",
        "BCRYPT_ROUNDS": "12",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'doctor.db'}",
    }
    for name in ("FLASK_DEBUG", "DEBUG", "RATELIMIT_ENABLED"):
        env.pop(name, None)

    def run(*args):
        return subprocess.run(  # noqa: S603
            [str(FLASK), *args], cwd=ROOT, env=env, capture_output=True, text=True
        )

    doctor = run("--app", "maintenance", "auth", "doctor")
    assert doctor.returncode == 1, doctor.stderr
    assert "FAIL  COOKIE_SECURE" in doctor.stdout
    assert "FAIL  RATELIMIT_STORAGE_URI" in doctor.stdout
    assert SECRET not in doctor.stdout + doctor.stderr
    # The maintenance app runs nothing but its two commands.
    purge = run("--app", "maintenance", "auth", "purge")
    assert purge.returncode == 2
    assert "No such command 'purge'" in purge.stderr
    # wsgi.py's app (FLASK_APP): every command refuses, pointing at the doctor.
    for args in (("routes",), ("auth", "doctor")):
        server = run(*args)
        assert server.returncode != 0
        assert "Refusing to start" in server.stderr
        assert "COOKIE_SECURE" in server.stderr
        assert "flask --app maintenance auth doctor" in server.stderr
