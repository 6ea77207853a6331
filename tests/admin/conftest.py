"""An admin caller: registered, promoted with the CLI, signed in again."""

import pytest


@pytest.fixture
def promote(app, auth):
    """promote(caller): the caller signed in anew as admin (promotion ends sessions)."""
    runner = app.test_cli_runner()

    def _promote(caller):
        result = runner.invoke(args=["users", "promote", caller.extra["email"]])
        assert result.exit_code == 0, result.output
        return auth.login(caller.extra["email"])

    return _promote


@pytest.fixture
def admin(auth, promote):
    return promote(auth.register(email="root@example.com"))
