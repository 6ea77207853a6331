"""COMPAT_PROFILES: what is served with it, without it, and what the guard says."""

import pytest

from app import create_app
from app.guard import UnsafeConfiguration, production_problems, settings_checks
from tests.compat.urls import PROFILE_ENDPOINTS
from tests.helpers import production_settings
from tests.urls import OPENAPI

PROFILE_TAGS = {"compat: chirpy", "compat: fastapi-mock", "compat: oauth2"}


def documented_operations(document):
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "patch", "delete", "put"}
    }


def test_without_compat_profiles_none_of_their_paths_exists(app, make_app):
    plain = make_app()
    assert plain.config["COMPAT_PROFILES"] == []
    client = plain.test_client()
    for method, path in PROFILE_ENDPOINTS:
        response = client.open(path, method=method, json={})
        assert response.status_code == 404, (method, path)
        assert response.json["code"] == "not_found"
    document = client.get(OPENAPI).json
    assert PROFILE_TAGS.isdisjoint(tag["name"] for tag in document["tags"])
    assert set(PROFILE_ENDPOINTS).isdisjoint(documented_operations(document))


def test_the_openapi_document_lists_profile_endpoints_under_their_tags(client):
    document = client.get(OPENAPI).json
    assert PROFILE_TAGS <= {tag["name"] for tag in document["tags"]}
    operations = documented_operations(document)
    for key in PROFILE_ENDPOINTS:
        assert key in operations, key
        assert operations[key]["tags"][0] in PROFILE_TAGS
    chirpy_login = operations[("POST", "/api/login")]
    assert "text/plain" in chirpy_login["responses"]["401"]["content"]
    revoke = operations[("POST", "/auth/jwt/revoke/")]
    assert "content" not in revoke["responses"]["204"]
    ids = [operation["operationId"] for operation in operations.values()]
    assert len(ids) == len(set(ids))


def test_one_profile_alone(app, make_app):
    only = make_app(COMPAT_PROFILES="oauth2").test_client()
    assert only.post("/api/login", json={}).status_code == 404
    assert only.post("/auth/jwt/create/", json={}).status_code == 400


def test_an_unknown_profile_stops_startup():
    with pytest.raises(ValueError, match="unknown profiles"):
        create_app({"APP_ENV": "testing", "COMPAT_PROFILES": "chirpy,keycloak"})


def test_production_refuses_dev_mock():
    settings = production_settings(DEV_MOCK=True)
    assert any("DEV_MOCK" in problem for problem in production_problems(settings))
    with pytest.raises(UnsafeConfiguration, match="DEV_MOCK"):
        create_app(settings)


def test_production_refuses_seeding_demo_users():
    settings = production_settings(SEED_DEMO_USERS=True)
    with pytest.raises(UnsafeConfiguration, match="SEED_DEMO_USERS"):
        create_app(settings)


def test_production_serves_the_profiles_it_names_and_no_other():
    settings = production_settings(COMPAT_PROFILES=["chirpy"])
    served = create_app({**settings, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    rules = {rule.rule for rule in served.url_map.iter_rules()}
    assert "/api/login" in rules
    assert "/auth/jwt/create/" not in rules and "/api/auth/login" not in rules
    report = [
        check
        for check in settings_checks(served.config)
        if check.setting == "COMPAT_PROFILES"
    ]
    assert report[0].ok and "chirpy" in report[0].message


def test_seed_demo_never_runs_in_production_even_with_dev_mock(app, runner):
    app.config.update(APP_ENV="production", DEV_MOCK=True)
    result = runner.invoke(args=["users", "seed-demo", "--allow-testing"])
    assert result.exit_code == 1
    assert "not in production" in result.output
