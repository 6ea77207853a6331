"""The mobile app's flow (mode=bearer): its redirect, its own PKCE, a bearer login."""

from sqlalchemy import func, select

from app.extensions import db
from app.models import LoginCode, UserSession
from tests.helpers import assert_error, assert_ok
from tests.oauth.conftest import APP_REDIRECT, query_of
from tests.oauth.flows import app_sign_in, exchange, pkce_pair
from tests.urls import ME, REFRESH


def app_code(client, provider):
    verifier, challenge = pkce_pair()
    answer = app_sign_in(client, provider, challenge)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(f"{APP_REDIRECT}?")
    return query_of(location)["code"], verifier


def test_the_app_gets_a_bearer_login(app, client, provider):
    code, verifier = app_code(client, provider)
    data = assert_ok(exchange(app.test_client(), code, codeVerifier=verifier))
    assert data["tokenType"] == "Bearer"
    assert data["refreshToken"] and data["deviceToken"]
    me = assert_ok(
        client.get(ME, headers={"Authorization": f"Bearer {data['accessToken']}"})
    )
    assert me["user"]["email"] == "ada@example.com"
    refreshed = client.post(
        REFRESH, headers={"Authorization": f"Bearer {data['refreshToken']}"}
    )
    assert assert_ok(refreshed)["refreshToken"]
    with app.app_context():
        assert db.session.scalar(select(UserSession.transport)) == "bearer"


def test_a_missing_verifier_is_refused_and_spends_the_code(app, client, provider):
    code, verifier = app_code(client, provider)
    assert_error(exchange(client, code), 401, "code_verifier_invalid")
    assert_error(
        exchange(client, code, codeVerifier=verifier), 401, "login_code_invalid"
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_a_wrong_verifier_is_refused(app, client, provider):
    code, _ = app_code(client, provider)
    other, _ = pkce_pair()
    assert_error(
        exchange(client, code, codeVerifier=other), 401, "code_verifier_invalid"
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_the_app_code_works_once(client, provider):
    code, verifier = app_code(client, provider)
    assert_ok(exchange(client, code, codeVerifier=verifier))
    assert_error(
        exchange(client, code, codeVerifier=verifier), 401, "login_code_invalid"
    )


def test_the_app_code_lives_60_seconds(client, provider, move_clock):
    code, verifier = app_code(client, provider)
    move_clock(seconds=61)
    assert_error(
        exchange(client, code, codeVerifier=verifier), 401, "login_code_invalid"
    )


def test_parallel_exchanges_of_one_code_give_one_session(app, client, provider):
    import threading

    code, verifier = app_code(client, provider)
    answers = []

    def run():
        answers.append(exchange(app.test_client(), code, codeVerifier=verifier))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [200, 401, 401, 401]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1
        assert db.session.scalar(select(func.count()).select_from(LoginCode)) == 1


def test_purge_deletes_expired_codes_and_states(
    app, client, provider, runner, move_clock
):
    app_code(client, provider)
    move_clock(seconds=601)
    result = runner.invoke(args=["auth", "purge"])
    assert "Deleted 2 expired provider sign-in codes and states." in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginCode)) == 0
