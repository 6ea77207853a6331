from unittest import mock

import pytest
from sqlalchemy import select

from app.auth import passwords
from app.extensions import db
from app.models import User
from tests.conftest import PASSWORD
from tests.helpers import assert_error, assert_ok, set_cookie_headers
from tests.urls import LOGIN


def test_login_cookie_mode(client, make_user):
    user = make_user(email="ada@example.com")
    response = client.post(
        LOGIN, json={"email": "ada@example.com", "password": PASSWORD}
    )
    data = assert_ok(response)
    assert set(data) == {
        "accessToken",
        "tokenType",
        "expiresIn",
        "id",
        "name",
        "email",
        "profilePicture",
        "emailVerified",
    }
    assert data["id"] == str(user.id)
    assert response.headers["Authorization"] == f"Bearer {data['accessToken']}"
    assert set_cookie_headers(response, "refresh_token")
    assert set_cookie_headers(response, "csrf_refresh_token")


def test_login_bearer_mode(client, make_user):
    make_user(email="ada@example.com")
    response = client.post(
        LOGIN,
        json={"email": "ada@example.com", "password": PASSWORD},
        headers={"X-Auth-Mode": "bearer"},
    )
    data = assert_ok(response)
    assert data["refreshToken"] and data["refreshExpiresIn"] > 0
    assert response.headers.getlist("Set-Cookie") == []


def test_login_email_is_case_insensitive(client, make_user):
    make_user(email="ada@example.com")
    response = client.post(
        LOGIN, json={"email": " ADA@Example.com", "password": PASSWORD}
    )
    assert_ok(response)


def test_login_wrong_password_is_401(client, make_user):
    make_user(email="ada@example.com")
    response = client.post(
        LOGIN, json={"email": "ada@example.com", "password": "nope" * 3}
    )
    body = assert_error(response, 401, "invalid_credentials")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "invalid_token" not in response.headers["WWW-Authenticate"]
    assert body["error"] == "Invalid email or password."


def test_login_unknown_email_same_answer_as_wrong_password(client, make_user):
    make_user(email="ada@example.com")
    wrong = client.post(LOGIN, json={"email": "ada@example.com", "password": "x" * 12})
    unknown = client.post(
        LOGIN, json={"email": "bob@example.com", "password": "x" * 12}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


def test_login_unknown_email_spends_one_bcrypt_check(client):
    with mock.patch(
        "app.auth.passwords.bcrypt.checkpw", wraps=passwords.bcrypt.checkpw
    ) as check:
        client.post(LOGIN, json={"email": "nobody@example.com", "password": "x" * 12})
    assert check.call_count == 1


def test_login_disabled_account_is_403(client, make_user):
    make_user(email="ada@example.com", is_active=False)
    response = client.post(
        LOGIN, json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert_error(response, 403, "account_disabled")


def test_login_disabled_account_wrong_password_is_still_401(client, make_user):
    make_user(email="ada@example.com", is_active=False)
    response = client.post(
        LOGIN, json={"email": "ada@example.com", "password": "y" * 12}
    )
    assert_error(response, 401, "invalid_credentials")


def test_login_rehashes_when_cost_setting_changed(app, client, make_user):
    make_user(email="ada@example.com")  # hashed at cost 4
    app.config["BCRYPT_ROUNDS"] = 5
    assert_ok(
        client.post(LOGIN, json={"email": "ada@example.com", "password": PASSWORD})
    )
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash))
    assert stored.startswith("$2b$05$")
    assert_ok(
        client.post(LOGIN, json={"email": "ada@example.com", "password": PASSWORD})
    )


def test_long_password_is_not_truncated(client, make_user):
    long_password = "a" * 100 + "tail-1"
    make_user(email="ada@example.com", password=long_password)
    assert_ok(
        client.post(LOGIN, json={"email": "ada@example.com", "password": long_password})
    )
    # Same first 72+ bytes, different tail: bcrypt alone would accept it.
    response = client.post(
        LOGIN, json={"email": "ada@example.com", "password": "a" * 100 + "tail-2"}
    )
    assert_error(response, 401, "invalid_credentials")


def test_very_long_login_password_is_4xx_not_500(client, make_user):
    make_user(email="ada@example.com")
    response = client.post(
        LOGIN, json={"email": "ada@example.com", "password": "p" * 5000}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "payload",
    [
        {"email": "ada@example.com"},
        {"password": PASSWORD},
        {"email": None, "password": PASSWORD},
        {"email": "ada@example.com", "password": None},
        {"email": ["ada@example.com"], "password": PASSWORD},
        {"email": "ada@example.com", "password": {"x": 1}},
        {"email": "ada@example.com", "password": PASSWORD, "remember": True},
    ],
)
def test_login_bad_body_is_400(client, payload):
    assert_error(client.post(LOGIN, json=payload), 400, "validation_error")


def test_a_password_replaced_while_bcrypt_runs_opens_no_session(app, make_user):
    """Login reads the hash, bcrypt runs, a reset commits meanwhile: no session."""
    import threading

    from sqlalchemy import func, select, update

    from app.auth import passwords
    from app.models import User, UserSession

    user = make_user()
    checking, replaced = threading.Event(), threading.Event()
    real_verify = passwords.verify_password

    def slow_verify(password, password_hash):
        checking.set()
        replaced.wait(5)
        return real_verify(password, password_hash)

    answers = []

    def login():
        response = app.test_client().post(
            LOGIN, json={"email": user.email, "password": PASSWORD}
        )
        answers.append(response)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "verify_password", slow_verify)
        thread = threading.Thread(target=login)
        thread.start()
        assert checking.wait(5)
        with app.app_context():
            new_hash = passwords.hash_password("the new pass phrase 7", 4)
            db.session.execute(
                update(User).where(User.id == user.id).values(password_hash=new_hash)
            )
            db.session.commit()
        replaced.set()
        thread.join(10)
    [response] = answers
    assert_error(response, 401, "invalid_credentials")
    with app.app_context():
        sessions = db.session.scalar(select(func.count()).select_from(UserSession))
    assert sessions == 0
