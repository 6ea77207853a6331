import pytest

from tests.auth.keys.support import ASYMMETRIC


@pytest.fixture
def make_app(app, make_app):
    """tests/conftest.py's make_app, once the `app` fixture has made the tables."""
    return make_app


@pytest.fixture(params=ASYMMETRIC)
def algorithm(request):
    return request.param
