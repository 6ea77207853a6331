import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import User, UserSession
from tests.conftest import PASSWORD
from tests.helpers import (
    USER_FIELDS,
    assert_error,
    assert_ok,
    cookie_attributes,
    set_cookie_headers,
)
from tests.tokens import claims_of
from tests.urls import AUTH, LOGIN, REGISTER


def body(**overrides):
    return {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "password": PASSWORD,
        **overrides,
    }


def test_register_cookie_mode_returns_user_access_token_and_cookies(client):
    response = client.post(REGISTER, json=body())
    data = assert_ok(response, 201)
    user = data["user"]
    assert set(user) == USER_FIELDS
    assert user["email"] == "ada@example.com"
    assert user["emailVerified"] is False
    assert user["createdAt"].endswith("Z")
    assert data["tokenType"] == "Bearer"
    assert data["expiresIn"] == 3600
    assert "refreshToken" not in data and "refreshExpiresIn" not in data
    assert response.headers["Authorization"] == f"Bearer {data['accessToken']}"
    assert response.headers["Cache-Control"] == "no-store"

    [refresh] = set_cookie_headers(response, "refresh_token")
    value, attrs = cookie_attributes(refresh)
    assert value
    assert attrs["path"] == AUTH
    assert attrs["httponly"] is True
    assert attrs["secure"] is True
    assert attrs["samesite"] == "Strict"
    assert int(attrs["max-age"]) > 0

    [csrf] = set_cookie_headers(response, "csrf_refresh_token")
    csrf_value, csrf_attrs = cookie_attributes(csrf)
    assert csrf_value
    assert "httponly" not in csrf_attrs
    assert csrf_attrs["secure"] is True
    assert csrf_attrs["samesite"] == "Strict"
    assert csrf_attrs["path"] == "/"


def test_register_bearer_mode_returns_refresh_token_and_sets_no_cookie(client):
    response = client.post(REGISTER, json=body(), headers={"X-Auth-Mode": "bearer"})
    data = assert_ok(response, 201)
    assert data["refreshToken"]
    assert 0 < data["refreshExpiresIn"] <= 5184000
    assert response.headers.getlist("Set-Cookie") == []


def test_access_token_carries_string_subject_and_session_id(app, client):
    data = assert_ok(client.post(REGISTER, json=body()), 201)
    with app.app_context():
        claims = claims_of(data["accessToken"])
        session = db.session.get(UserSession, __import__("uuid").UUID(claims["sid"]))
    assert claims["sub"] == data["user"]["id"]
    assert isinstance(claims["sub"], str)
    assert session is not None and str(session.user_id) == data["user"]["id"]


@pytest.mark.config(COOKIE_SAMESITE="Lax", COOKIE_SECURE=False)
def test_cookie_attributes_follow_settings(client):
    response = client.post(REGISTER, json=body())
    [refresh] = set_cookie_headers(response, "refresh_token")
    _, attrs = cookie_attributes(refresh)
    assert attrs["samesite"] == "Lax"
    assert "secure" not in attrs


def test_register_normalises_email(client):
    data = assert_ok(client.post(REGISTER, json=body(email="  Ada@Example.COM ")), 201)
    assert data["user"]["email"] == "ada@example.com"


def test_register_same_email_other_case_is_409(client):
    assert_ok(client.post(REGISTER, json=body()), 201)
    response = client.post(REGISTER, json=body(email="ADA@example.com"))
    assert_error(response, 409, "email_taken")


def test_database_refuses_duplicate_email_by_case(app, make_user):
    from sqlalchemy.exc import IntegrityError

    make_user(email="grace@example.com")
    with app.app_context():
        db.session.add(User(name="x", email="GRACE@example.com", password_hash="x"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_password_is_stored_as_bcrypt_hash(app, client):
    assert_ok(client.post(REGISTER, json=body()), 201)
    with app.app_context():
        user = db.session.scalar(select(User))
    assert user.password_hash.startswith("$2b$04$")
    assert PASSWORD not in user.password_hash


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("email", 42),
        ("email", "a" * 250 + "@example.com"),
        ("name", ""),
        ("name", "   "),
        ("name", "x" * 101),
        ("name", None),
        ("name", ["Ada"]),
        ("name", "Ada\u0000Lovelace"),
        ("name", "Ada\nLovelace"),
        ("name", "\ud800"),
        ("password", "short"),
        ("password", "x" * 257),
        ("password", "password123"),
        ("password", "ada@example.com"),
        ("password", 12345678),
        ("password", "nul\u0000in password"),
    ],
)
def test_register_invalid_field_is_400_naming_the_field(client, field, value):
    response = client.post(REGISTER, json=body(**{field: value}))
    error = assert_error(response, 400, "validation_error")
    assert field in error["details"], error


def test_register_missing_fields_are_named(client):
    error = assert_error(client.post(REGISTER, json={}), 400, "validation_error")
    assert set(error["details"]) == {"name", "email", "password"}


def test_register_unknown_field_is_400(client):
    error = assert_error(
        client.post(REGISTER, json=body(isAdmin=True)), 400, "validation_error"
    )
    assert "isAdmin" in error["details"]


def test_register_accepts_unicode_name_and_long_unicode_password(client):
    password = "пароль-" * 30 + "🔐"
    data = assert_ok(
        client.post(REGISTER, json=body(name="Zoë 李 👩‍💻", password=password)), 201
    )
    assert data["user"]["name"] == "Zoë 李 👩‍💻"
    login = client.post(LOGIN, json={"email": "ada@example.com", "password": password})
    assert_ok(login)


def test_failed_registration_writes_nothing(app, client):
    assert_error(
        client.post(REGISTER, json=body(password="short")), 400, "validation_error"
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_invalid_auth_mode_header_is_400(client):
    response = client.post(REGISTER, json=body(), headers={"X-Auth-Mode": "carrier"})
    assert_error(response, 400, "validation_error")


# Room for all 20 to wait for bcrypt: this is about the unique index, not the gate.
@pytest.mark.config(BCRYPT_MAX_WAITING=32)
def test_parallel_registrations_of_one_email_give_one_201(app):
    results = []
    barrier = threading.Barrier(20)

    def register():
        client = app.test_client()
        barrier.wait()
        response = client.post(REGISTER, json=body(email="race@example.com"))
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=register) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = sorted(status for status, _ in results)
    assert statuses.count(201) == 1, results
    assert statuses.count(409) == 19, results
    assert all(b["code"] == "email_taken" for s, b in results if s == 409)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
