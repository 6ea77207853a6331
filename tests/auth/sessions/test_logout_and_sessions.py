import uuid

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import UserSession
from tests.helpers import assert_error, assert_ok, cookie_attributes, set_cookie_headers
from tests.urls import AUTH, LOGIN, LOGOUT, LOGOUT_ALL, ME, REFRESH, REGISTER, SESSIONS


def test_cookie_logout_clears_both_cookies_and_ends_session(auth):
    caller = auth.register(mode="cookie")
    response = caller.client.post(LOGOUT, headers={"X-CSRF-TOKEN": caller.csrf_token})
    assert assert_ok(response)["message"]
    for name, path in (("refresh_token", AUTH), ("csrf_refresh_token", "/")):
        [header] = set_cookie_headers(response, name)
        value, attrs = cookie_attributes(header)
        assert value == ""
        assert attrs["path"] == path
        assert attrs.get("max-age") == "0" or "1970" in str(attrs.get("expires"))
    assert_error(caller.client.get(ME, headers=caller.headers), 401, "token_revoked")


def test_cookie_logout_without_csrf_is_403_and_keeps_session(auth):
    caller = auth.register(mode="cookie")
    assert_error(caller.client.post(LOGOUT), 403, "csrf_failed")
    assert_ok(caller.client.get(ME, headers=caller.headers))


def test_bearer_logout_with_refresh_token(auth, client):
    caller = auth.register()
    response = client.post(LOGOUT, headers=caller.refresh_headers)
    assert_ok(response)
    assert response.headers.getlist("Set-Cookie") == [] or True
    assert_error(client.get(ME, headers=caller.headers), 401, "token_revoked")
    assert_error(
        client.post(REFRESH, headers=caller.refresh_headers), 401, "token_revoked"
    )


def test_bearer_logout_with_refresh_token_in_body(auth, client):
    caller = auth.register()
    assert_ok(client.post(LOGOUT, json={"refreshToken": caller.refresh_token}))
    assert_error(client.get(ME, headers=caller.headers), 401, "token_revoked")


def test_logout_with_access_token(auth, client):
    caller = auth.register()
    assert_ok(client.post(LOGOUT, headers=caller.headers))
    assert_error(client.get(ME, headers=caller.headers), 401, "token_revoked")
    assert_error(
        client.post(REFRESH, headers=caller.refresh_headers), 401, "token_revoked"
    )


def test_logout_of_already_ended_session_is_200(auth, client):
    caller = auth.register()
    assert_ok(client.post(LOGOUT, headers=caller.headers))
    assert_ok(client.post(LOGOUT, headers=caller.headers))
    assert_ok(client.post(LOGOUT, headers=caller.refresh_headers))


def test_logout_ends_only_that_session(auth):
    first = auth.register()
    second = auth.login(first.extra["email"])
    assert_ok(first.client.post(LOGOUT, headers=first.headers))
    assert_ok(second.client.get(ME, headers=second.headers))


def test_logout_without_token_is_401(client):
    assert_error(client.post(LOGOUT), 401, "token_missing")


def test_logout_all_ends_every_session(auth):
    first = auth.register()
    second = auth.login(first.extra["email"], mode="cookie")
    third = auth.login(first.extra["email"])
    data = assert_ok(first.client.post(LOGOUT_ALL, headers=first.headers))
    assert data["revoked"] == 3 and data["message"]
    for caller in (first, second, third):
        assert_error(
            caller.client.get(ME, headers=caller.headers), 401, "token_revoked"
        )
    assert_error(
        third.client.post(REFRESH, headers=third.refresh_headers), 401, "token_revoked"
    )


def test_logout_all_needs_an_access_token(auth, client):
    caller = auth.register()
    assert_error(
        client.post(LOGOUT_ALL, headers=caller.refresh_headers), 401, "token_invalid"
    )
    assert_error(client.post(LOGOUT_ALL), 401, "token_missing")


def test_logout_all_leaves_other_users_alone(auth):
    mine = auth.register()
    theirs = auth.register()
    assert_ok(mine.client.post(LOGOUT_ALL, headers=mine.headers))
    assert_ok(theirs.client.get(ME, headers=theirs.headers))


def test_sessions_list_shows_active_sessions_with_current(auth):
    first = auth.register()
    second = auth.login(first.extra["email"], mode="cookie")
    ended = auth.login(first.extra["email"])
    assert_ok(ended.client.post(LOGOUT, headers=ended.headers))
    response = first.client.get(
        SESSIONS, headers={**first.headers, "User-Agent": "ignored-on-list"}
    )
    sessions = assert_ok(response)["sessions"]
    assert len(sessions) == 2
    for entry in sessions:
        assert set(entry) == {
            "id",
            "createdAt",
            "lastUsedAt",
            "expiresAt",
            "userAgent",
            "ip",
            "current",
            "amr",
            "acr",
            "authTime",
        }
        assert entry["amr"] == ["pwd"] and entry["acr"] == "aal1"
        assert entry["expiresAt"].endswith("Z")
        assert entry["ip"] == "127.0.0.1"
        uuid.UUID(entry["id"])
    assert [entry["current"] for entry in sessions].count(True) == 1
    assert second


def test_sessions_record_user_agent(app):
    client = app.test_client()
    client.post(
        REGISTER,
        json={
            "name": "A",
            "email": "ua@example.com",
            "password": "correct horse battery staple",
        },
        headers={"User-Agent": "MyPhone/1.0", "X-Auth-Mode": "bearer"},
    )
    data = client.post(
        LOGIN,
        json={"email": "ua@example.com", "password": "correct horse battery staple"},
        headers={"X-Auth-Mode": "bearer"},
    ).get_json()["data"]
    sessions = client.get(
        SESSIONS, headers={"Authorization": f"Bearer {data['accessToken']}"}
    ).get_json()["data"]["sessions"]
    assert "MyPhone/1.0" in {entry["userAgent"] for entry in sessions}


def test_refresh_updates_last_used_at(auth, client, move_clock):
    caller = auth.register()
    before = assert_ok(client.get(SESSIONS, headers=caller.headers))["sessions"][0]
    move_clock(seconds=5)
    data = assert_ok(client.post(REFRESH, headers=caller.refresh_headers))
    after = assert_ok(
        client.get(SESSIONS, headers={"Authorization": f"Bearer {data['accessToken']}"})
    )
    assert after["sessions"][0]["lastUsedAt"] > before["lastUsedAt"]


def test_delete_session_revokes_it(auth):
    first = auth.register()
    other = auth.login(first.extra["email"])
    sessions = assert_ok(first.client.get(SESSIONS, headers=first.headers))["sessions"]
    [target] = [entry for entry in sessions if not entry["current"]]
    assert_ok(first.client.delete(f"{SESSIONS}/{target['id']}", headers=first.headers))
    assert_error(other.client.get(ME, headers=other.headers), 401, "token_revoked")
    assert_error(
        other.client.post(REFRESH, headers=other.refresh_headers), 401, "token_revoked"
    )
    assert_ok(first.client.get(ME, headers=first.headers))


def test_delete_own_current_session(auth):
    caller = auth.register()
    sessions = assert_ok(caller.client.get(SESSIONS, headers=caller.headers))[
        "sessions"
    ]
    assert_ok(
        caller.client.delete(f"{SESSIONS}/{sessions[0]['id']}", headers=caller.headers)
    )
    assert_error(caller.client.get(ME, headers=caller.headers), 401, "token_revoked")


def test_delete_another_users_session_is_404(auth):
    mine = auth.register()
    theirs = auth.register()
    their_id = assert_ok(theirs.client.get(SESSIONS, headers=theirs.headers))[
        "sessions"
    ][0]["id"]
    assert_error(
        mine.client.delete(f"{SESSIONS}/{their_id}", headers=mine.headers),
        404,
        "not_found",
    )
    assert_ok(theirs.client.get(ME, headers=theirs.headers))


@pytest.mark.parametrize(
    "session_id", ["not-a-uuid", str(uuid.uuid4()), "%00", "1" * 300]
)
def test_delete_unknown_session_is_404(auth, session_id):
    caller = auth.register()
    assert_error(
        caller.client.delete(f"{SESSIONS}/{session_id}", headers=caller.headers),
        404,
        "not_found",
    )


def test_purge_deletes_long_ended_sessions_only(app, auth, runner, move_clock):
    active = auth.register()
    ended = auth.register()
    assert_ok(ended.client.post(LOGOUT, headers=ended.headers))
    move_clock(days=31)
    result = runner.invoke(args=["auth", "purge"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1
    assert active


def test_purge_honours_retention_option(app, auth, runner):
    ended = auth.register()
    assert_ok(ended.client.post(LOGOUT, headers=ended.headers))
    result = runner.invoke(args=["auth", "purge", "--retention-days", "30"])
    assert "Deleted 0" in result.output
