"""An admin caller: registered, promoted with the CLI, signed in again (`promote`)."""

import pytest


@pytest.fixture
def admin(auth, promote):
    return promote(auth.register(email="root@example.com"))
