"""`flask users ...`: create, deactivate, activate and seed accounts from the CLI."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import UserSession
from tests.helpers import assert_error
from tests.urls import LOGIN, ME, REFRESH

PASSWORD = "a fine pass phrase"


def create(runner, email="ops@example.com", name="Ops", password=PASSWORD, again=None):
    return runner.invoke(
        args=["users", "create", "--email", email, "--name", name],
        input=f"{password}\n{again or password}\n",
    )


def login(client, email, password=PASSWORD):
    return client.post(
        LOGIN,
        json={"email": email, "password": password},
        headers={"X-Auth-Mode": "bearer"},
    )


def test_create_then_login_over_http(runner, client):
    result = create(runner, email="  Ops@Example.com ")
    assert result.exit_code == 0, result.output
    assert "Created account ops@example.com" in result.output
    assert PASSWORD not in result.output
    response = login(client, "ops@example.com")
    assert response.status_code == 200, response.json
    assert response.json["data"]["emailVerified"] is False


def test_verified_flag_marks_the_email_verified(runner, client):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "v@example.com",
            "--name",
            "V",
            "--verified",
        ],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert login(client, "v@example.com").json["data"]["emailVerified"] is True


def test_mismatched_confirmation_asks_again(runner, client):
    result = runner.invoke(
        args=["users", "create", "--email", "two@example.com", "--name", "Two"],
        input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert PASSWORD not in result.output
    assert login(client, "two@example.com").status_code == 200


def test_prompts_for_missing_email_and_name(runner, client):
    result = runner.invoke(
        args=["users", "create"],
        input=f"asked@example.com\nAsked\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert login(client, "asked@example.com").status_code == 200


def test_taken_email_is_a_clear_error(runner):
    assert create(runner).exit_code == 0
    result = create(runner, email="OPS@example.com")
    assert result.exit_code == 1
    assert "email_taken" in result.output


@pytest.mark.parametrize(
    ("email", "password", "named"),
    [
        ("weak@example.com", "password123", "password"),
        ("short@example.com", "short", "password"),
        ("not-an-email", PASSWORD, "email"),
    ],
)
def test_invalid_input_creates_nothing(runner, client, email, password, named):
    result = create(runner, email=email, password=password)
    assert result.exit_code == 1
    assert "validation_error" in result.output
    assert f"{named}:" in result.output
    assert password not in result.output
    assert login(client, email, password).status_code in {400, 401}


def test_deactivate_blocks_login_tokens_and_refresh(runner, client, auth, app):
    caller = auth.register(mode="bearer")
    cookie_caller = auth.login(caller.extra["email"], mode="cookie")
    email = caller.extra["email"]

    result = runner.invoke(args=["users", "deactivate", email.upper()])
    assert result.exit_code == 0, result.output
    assert "2 session(s) revoked" in result.output

    assert_error(
        login(client, email, caller.extra["password"]), 403, "account_disabled"
    )
    assert_error(client.get(ME, headers=caller.headers), 403, "account_disabled")
    assert_error(
        client.post(REFRESH, headers=caller.refresh_headers), 403, "account_disabled"
    )
    assert_error(
        cookie_caller.client.post(
            REFRESH, headers={"X-CSRF-TOKEN": cookie_caller.csrf_token}
        ),
        403,
        "account_disabled",
    )
    with app.app_context():
        reasons = db.session.scalars(select(UserSession.revoked_reason)).all()
    assert reasons == ["deactivated", "deactivated"]


def test_activate_lets_the_user_log_in_again(runner, client, auth):
    caller = auth.register(mode="bearer")
    email = caller.extra["email"]
    assert runner.invoke(args=["users", "deactivate", email]).exit_code == 0
    result = runner.invoke(args=["users", "activate", email])
    assert result.exit_code == 0, result.output
    assert login(client, email, caller.extra["password"]).status_code == 200
    # The sessions ended by the deactivation stay ended.
    assert_error(client.get(ME, headers=caller.headers), 401, "token_revoked")


def test_unknown_email_is_a_clear_error(runner):
    for command in ("deactivate", "activate"):
        result = runner.invoke(args=["users", command, "nobody@example.com"])
        assert result.exit_code == 1
        assert "No account with this email" in result.output


def test_seed_demo_refuses_testing_without_the_flag(runner):
    result = runner.invoke(args=["users", "seed-demo"])
    assert result.exit_code == 1
    assert "development only" in result.output


def test_seed_demo_never_runs_in_production(runner, app):
    app.config["APP_ENV"] = "production"
    result = runner.invoke(args=["users", "seed-demo", "--allow-testing"])
    assert result.exit_code == 1
    assert "not in production" in result.output


def test_seed_demo_prints_working_credentials(runner, client):
    result = runner.invoke(
        args=["users", "seed-demo", "--allow-testing", "--count", "2"]
    )
    assert result.exit_code == 0, result.output
    # The JSON log lines share stdout with the command's own output.
    lines = [line for line in result.output.splitlines() if "@example.com  " in line]
    assert len(lines) == 2
    for line in lines:
        email, password = line.split()
        response = login(client, email, password)
        assert response.status_code == 200, response.json
        assert response.json["data"]["emailVerified"] is True

    again = runner.invoke(
        args=["users", "seed-demo", "--allow-testing", "--count", "2"]
    )
    assert again.exit_code == 0
    assert again.output.count("exists already") == 2
