from app import create_app
from tests.urls import LOGIN, ME


def test_create_app_registers_both_blueprints(app):
    assert {"auth", "users"} <= set(app.blueprints)
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert LOGIN in rules
    assert ME in rules


def test_create_app_accepts_overrides(database_url):
    app = create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "ACCESS_TOKEN_TTL": 60,
        }
    )
    assert app.config["ACCESS_TOKEN_TTL"] == 60
    assert app.config["TESTING"] is True
