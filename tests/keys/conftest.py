import pytest

from app import create_app
from app.extensions import db
from tests.keys.support import ASYMMETRIC


@pytest.fixture
def make_app(app, database_url):
    """More apps on the test's database (the `app` fixture made the tables)."""
    made = []

    def _make_app(**overrides):
        other = create_app(
            {"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url, **overrides}
        )
        made.append(other)
        return other

    yield _make_app
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(params=ASYMMETRIC)
def algorithm(request):
    return request.param
