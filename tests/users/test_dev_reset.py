"""`flask dev reset` and SEED_DEMO_USERS: one demo-account list, development only."""

import secrets

from sqlalchemy import func, select

from app.extensions import db
from app.models import User
from app.users.admin import DEMO_ACCOUNT_COUNT, DEMO_EMAIL
from tests.conftest import PASSWORD
from tests.helpers import assert_ok, production_settings
from tests.urls import LOGIN


def demo_credentials(output):
    lines = [line.split() for line in output.splitlines() if "@example.com" in line]
    return {email: password for email, password, *_ in lines}


def count_users(app):
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(User))
        db.session.remove()
    return count


def test_dev_reset_empties_the_database_and_prints_the_demo_accounts(
    app, runner, auth, make_user
):
    auth.register()
    make_user()
    result = runner.invoke(args=["dev", "reset", "--yes", "--allow-testing"])
    assert result.exit_code == 0, result.output
    credentials = demo_credentials(result.output)
    expected = {DEMO_EMAIL.format(number=n) for n in range(1, DEMO_ACCOUNT_COUNT + 1)}
    assert set(credentials) == expected
    assert count_users(app) == DEMO_ACCOUNT_COUNT
    email, password = next(iter(credentials.items()))
    assert_ok(
        app.test_client().post(LOGIN, json={"email": email, "password": password})
    )
    # Again: new passwords, the same accounts.
    again = runner.invoke(args=["dev", "reset", "--yes", "--allow-testing"])
    assert demo_credentials(again.output)[email] != password


def test_dev_reset_refuses_in_testing_without_the_flag_and_asks_first(
    app, runner, auth
):
    auth.register()
    refused = runner.invoke(args=["dev", "reset", "--yes"])
    assert refused.exit_code != 0 and "development only" in refused.output
    declined = runner.invoke(args=["dev", "reset", "--allow-testing"], input="n\n")
    assert declined.exit_code != 0
    assert count_users(app) == 1


def test_dev_reset_refuses_in_production(make_app, app, auth):
    auth.register()
    production = make_app(**production_settings())
    result = production.test_cli_runner().invoke(
        args=["dev", "reset", "--yes", "--allow-testing"]
    )
    assert result.exit_code != 0
    assert "not in production" in result.output
    assert count_users(app) == 1


def test_seed_demo_users_on_first_start_in_development_only(make_app, app):
    development = {
        "APP_ENV": "development",
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "BCRYPT_ROUNDS": 4,
    }
    off = make_app(**development)
    assert off.test_cli_runner().invoke(args=["dev", "first-start"]).output == ""
    testing = make_app(SEED_DEMO_USERS=True)
    assert testing.test_cli_runner().invoke(args=["dev", "first-start"]).output == ""
    assert count_users(app) == 0
    seeding = make_app(**development, SEED_DEMO_USERS=True)
    first = seeding.test_cli_runner().invoke(args=["dev", "first-start"])
    assert first.exit_code == 0, first.output
    assert len(demo_credentials(first.output)) == DEMO_ACCOUNT_COUNT
    # Not the first start any more: nothing is created or printed.
    second = seeding.test_cli_runner().invoke(args=["dev", "first-start"])
    assert second.output == ""
    assert count_users(app) == DEMO_ACCOUNT_COUNT
    assert PASSWORD not in first.output
