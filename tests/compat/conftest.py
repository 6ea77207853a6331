"""The compatibility profiles' tests: an app with all three profiles on."""

import pytest

from tests.conftest import PASSWORD

ALL_PROFILES = "chirpy,fastapi-mock,oauth2"


@pytest.fixture
def settings():
    return {"COMPAT_PROFILES": ALL_PROFILES}


@pytest.fixture
def account(auth):
    """An account registered through /api/v1: (email, password)."""
    caller = auth.register()
    return caller.extra["email"], PASSWORD
