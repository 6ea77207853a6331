import threading
import uuid

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import UserSession
from tests.helpers import (
    assert_error,
    assert_ok,
    cookie_attributes,
    set_cookie_headers,
)
from tests.tokens import claims_of
from tests.urls import AUTH, ME, REFRESH


def refresh_bearer(client, token, *, in_body=False):
    if in_body:
        return client.post(REFRESH, json={"refreshToken": token})
    return client.post(REFRESH, headers={"Authorization": f"Bearer {token}"})


def refresh_cookie(caller, csrf=None):
    csrf = caller.csrf_token if csrf is None else csrf
    return caller.client.post(REFRESH, headers={"X-CSRF-TOKEN": csrf} if csrf else {})


def session_row(app, access_token):
    with app.app_context():
        sid = uuid.UUID(claims_of(access_token)["sid"])
        return db.session.get(UserSession, sid)


# -- bearer transport ---------------------------------------------------------


@pytest.mark.parametrize("in_body", [False, True])
def test_bearer_refresh_rotates(auth, client, in_body):
    caller = auth.register()
    data = assert_ok(refresh_bearer(client, caller.refresh_token, in_body=in_body))
    assert data["refreshToken"] != caller.refresh_token
    assert data["tokenType"] == "Bearer" and data["expiresIn"] == 3600
    assert data["refreshExpiresIn"] > 0
    assert assert_ok(
        client.get(ME, headers={"Authorization": f"Bearer {data['accessToken']}"})
    )
    # The new refresh token works, and goes on rotating.
    again = assert_ok(refresh_bearer(client, data["refreshToken"]))
    assert again["refreshToken"] != data["refreshToken"]


def test_refresh_response_carries_access_token_header_and_no_cookies_in_bearer(
    auth, client
):
    caller = auth.register()
    response = refresh_bearer(client, caller.refresh_token)
    data = assert_ok(response)
    assert response.headers["Authorization"] == f"Bearer {data['accessToken']}"
    assert response.headers.getlist("Set-Cookie") == []
    assert response.headers["Cache-Control"] == "no-store"


def test_refresh_token_is_not_stored_in_plain_text(app, auth):
    caller = auth.register()
    row = session_row(app, caller.access_token)
    assert caller.refresh_token not in {row.refresh_jti, row.previous_refresh_jti}
    assert len(row.refresh_jti) <= 64


def test_reuse_outside_grace_revokes_whole_session(auth, client, move_clock):
    caller = auth.register()
    rotated = assert_ok(refresh_bearer(client, caller.refresh_token))
    move_clock(seconds=11)
    response = refresh_bearer(client, caller.refresh_token)
    assert_error(response, 401, "token_revoked")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    # Every token of that session stops working.
    assert_error(refresh_bearer(client, rotated["refreshToken"]), 401, "token_revoked")
    for access in (caller.access_token, rotated["accessToken"]):
        assert_error(
            client.get(ME, headers={"Authorization": f"Bearer {access}"}),
            401,
            "token_revoked",
        )


def test_reuse_of_older_token_inside_grace_still_revokes(auth, client):
    caller = auth.register()
    first = assert_ok(refresh_bearer(client, caller.refresh_token))
    assert_ok(refresh_bearer(client, first["refreshToken"]))
    # Only the token rotated just before gets grace, not the one before it.
    assert_error(refresh_bearer(client, caller.refresh_token), 401, "token_revoked")


def test_two_tabs_converge_inside_grace(auth, client, move_clock):
    caller = auth.register()
    tab_a = assert_ok(refresh_bearer(client, caller.refresh_token))
    move_clock(seconds=5)
    tab_b = assert_ok(refresh_bearer(client, caller.refresh_token))
    # Tab B gets the session's current refresh token, not a fork.
    with client.application.app_context():
        assert (
            claims_of(tab_b["refreshToken"])["jti"]
            == claims_of(tab_a["refreshToken"])["jti"]
        )
    for data in (tab_a, tab_b):
        assert_ok(
            client.get(ME, headers={"Authorization": f"Bearer {data['accessToken']}"})
        )
    # Both go on: A rotates, then B (holding the same token) falls in A's grace.
    next_a = assert_ok(refresh_bearer(client, tab_a["refreshToken"]))
    next_b = assert_ok(refresh_bearer(client, tab_b["refreshToken"]))
    assert_ok(refresh_bearer(client, next_b["refreshToken"]))
    assert next_a


def test_two_tabs_after_grace_old_token_revokes(auth, client, move_clock):
    caller = auth.register()
    tab_a = assert_ok(refresh_bearer(client, caller.refresh_token))
    move_clock(seconds=10, milliseconds=500)
    assert_error(refresh_bearer(client, caller.refresh_token), 401, "token_revoked")
    assert_error(refresh_bearer(client, tab_a["refreshToken"]), 401, "token_revoked")


@pytest.mark.config(REFRESH_REUSE_GRACE_SECONDS=0)
def test_zero_grace_means_any_reuse_revokes(auth, client, move_clock):
    caller = auth.register()
    assert_ok(refresh_bearer(client, caller.refresh_token))
    move_clock(milliseconds=1)
    assert_error(refresh_bearer(client, caller.refresh_token), 401, "token_revoked")


def test_session_absolute_lifetime(auth, client, move_clock, app):
    caller = auth.register()
    move_clock(seconds=app.config["REFRESH_TOKEN_TTL"] + 1)
    assert_error(refresh_bearer(client, caller.refresh_token), 401, "token_expired")


def test_refresh_does_not_extend_absolute_lifetime(auth, client, app):
    caller = auth.register()
    before = session_row(app, caller.access_token).expires_at
    data = assert_ok(refresh_bearer(client, caller.refresh_token))
    assert session_row(app, data["accessToken"]).expires_at == before


def test_parallel_refreshes_rotate_exactly_once(app, auth):
    caller = auth.register()
    workers = 8
    barrier = threading.Barrier(workers)
    results = []

    def refresh():
        client = app.test_client()
        barrier.wait()
        response = refresh_bearer(client, caller.refresh_token)
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=refresh) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(results) == workers
    assert all(status == 200 for status, _ in results), results
    with app.app_context():
        jtis = {claims_of(body["data"]["refreshToken"])["jti"] for _, body in results}
    assert len(jtis) == 1, "every caller converges on the one rotated token"
    row = session_row(app, caller.access_token)
    assert row.revoked_at is None
    assert row.refresh_jti in jtis
    # The user goes on with the returned token.
    token = results[0][1]["data"]["refreshToken"]
    client = app.test_client()
    assert_ok(refresh_bearer(client, token))


# -- cookie transport ---------------------------------------------------------


def test_cookie_refresh_rotates_and_sets_new_cookies(auth):
    caller = auth.register(mode="cookie")
    old_cookie = caller.client.get_cookie("refresh_token", path=AUTH).value
    response = refresh_cookie(caller)
    data = assert_ok(response)
    assert "refreshToken" not in data
    [refresh] = set_cookie_headers(response, "refresh_token")
    value, attrs = cookie_attributes(refresh)
    assert value != old_cookie
    assert attrs["httponly"] is True and attrs["path"] == AUTH
    assert attrs["samesite"] == "Strict" and attrs["secure"] is True
    [csrf] = set_cookie_headers(response, "csrf_refresh_token")
    new_csrf, _ = cookie_attributes(csrf)
    # The CSRF value belongs to the session: rotation keeps it, so a tab that read
    # it just before another tab's refresh still sends a matching pair.
    assert new_csrf == caller.csrf_token
    assert_ok(caller.client.post(REFRESH, headers={"X-CSRF-TOKEN": new_csrf}))


def test_tab_with_csrf_read_before_another_tabs_refresh_still_refreshes(auth):
    """The browser race: the cookie was replaced after this tab read the CSRF value."""
    caller = auth.register(mode="cookie")
    csrf_read_by_tab_a = caller.csrf_token
    assert_ok(refresh_cookie(caller))  # tab B rotates; the jar now holds the new cookie
    response = caller.client.post(REFRESH, headers={"X-CSRF-TOKEN": csrf_read_by_tab_a})
    assert_ok(response)


def test_cookie_refresh_without_csrf_header_is_403(auth):
    caller = auth.register(mode="cookie")
    assert_error(caller.client.post(REFRESH), 403, "csrf_failed")


def test_cookie_refresh_with_wrong_csrf_is_403(auth):
    caller = auth.register(mode="cookie")
    assert_error(refresh_cookie(caller, csrf="not-the-value"), 403, "csrf_failed")


def test_cookie_refresh_with_csrf_of_another_session_is_403(auth):
    first = auth.register(mode="cookie")
    second = auth.register(mode="cookie")
    assert_error(refresh_cookie(first, csrf=second.csrf_token), 403, "csrf_failed")


def test_cookie_session_token_is_refused_as_bearer(auth, client):
    caller = auth.register(mode="cookie")
    cookie = caller.client.get_cookie("refresh_token", path=AUTH).value
    assert_error(refresh_bearer(client, cookie), 401, "token_invalid")
    assert_error(refresh_bearer(client, cookie, in_body=True), 401, "token_invalid")


def test_bearer_session_token_is_refused_as_cookie(auth, app):
    caller = auth.register()
    client = app.test_client()
    client.set_cookie("refresh_token", caller.refresh_token, path=AUTH)
    with app.app_context():
        csrf = claims_of(caller.refresh_token).get("csrf", "x")
    response = client.post(REFRESH, headers={"X-CSRF-TOKEN": csrf})
    assert response.status_code in (401, 403)
    assert response.get_json()["code"] in {"token_invalid", "csrf_failed"}


def test_cookie_reuse_outside_grace_revokes(auth, app, move_clock):
    caller = auth.register(mode="cookie")
    old_cookie = caller.client.get_cookie("refresh_token", path=AUTH).value
    assert_ok(refresh_cookie(caller))
    move_clock(seconds=11)
    replay = app.test_client()
    replay.set_cookie("refresh_token", old_cookie, path=AUTH)
    assert_error(
        replay.post(REFRESH, headers={"X-CSRF-TOKEN": caller.csrf_token}),
        401,
        "token_revoked",
    )
    assert_error(caller.client.get(ME, headers=caller.headers), 401, "token_revoked")


def test_refresh_without_any_token_is_401_token_missing(client):
    response = client.post(REFRESH)
    assert_error(response, 401, "token_missing")


def test_refresh_body_with_unknown_field_is_400(client):
    assert_error(client.post(REFRESH, json={"token": "x"}), 400, "validation_error")


def test_disabled_account_refresh_is_403(app, auth, client):
    caller = auth.register()
    from app.models import User

    with app.app_context():
        user = db.session.scalar(select(User))
        user.is_active = False
        db.session.commit()
    assert_error(refresh_bearer(client, caller.refresh_token), 403, "account_disabled")
    assert_error(client.get(ME, headers=caller.headers), 403, "account_disabled")


def copy_cookies(app, caller):
    """A second 'tab': another client holding the same cookies as `caller`."""
    tab = app.test_client()
    refresh = caller.client.get_cookie("refresh_token", path=AUTH).value
    tab.set_cookie("refresh_token", refresh, path=AUTH)
    tab.set_cookie("csrf_refresh_token", caller.csrf_token, path="/")
    return tab


def test_cookie_two_tabs_converge_inside_grace(app, auth):
    tab_a = auth.register(mode="cookie")
    tab_b = copy_cookies(app, tab_a)
    first = refresh_cookie(tab_a)
    assert_ok(first)
    late = tab_b.post(REFRESH, headers={"X-CSRF-TOKEN": tab_a.csrf_token})
    data = assert_ok(late)
    # Tab B is handed the session's current refresh token in its cookie.
    [cookie_a] = set_cookie_headers(first, "refresh_token")
    [cookie_b] = set_cookie_headers(late, "refresh_token")
    with app.app_context():
        jti_a = claims_of(cookie_attributes(cookie_a)[0])["jti"]
        jti_b = claims_of(cookie_attributes(cookie_b)[0])["jti"]
    assert jti_a == jti_b
    assert_ok(tab_b.get(ME, headers={"Authorization": f"Bearer {data['accessToken']}"}))
    # Both go on refreshing with what they now hold.
    csrf_b = cookie_attributes(set_cookie_headers(late, "csrf_refresh_token")[0])[0]
    assert_ok(tab_b.post(REFRESH, headers={"X-CSRF-TOKEN": csrf_b}))
    csrf_a = cookie_attributes(set_cookie_headers(first, "csrf_refresh_token")[0])[0]
    assert_ok(tab_a.client.post(REFRESH, headers={"X-CSRF-TOKEN": csrf_a}))


def test_cookie_two_tabs_after_grace_old_cookie_revokes(app, auth, move_clock):
    tab_a = auth.register(mode="cookie")
    tab_b = copy_cookies(app, tab_a)
    assert_ok(refresh_cookie(tab_a))
    move_clock(seconds=11)
    late = tab_b.post(REFRESH, headers={"X-CSRF-TOKEN": tab_a.csrf_token})
    assert_error(late, 401, "token_revoked")
    assert_error(tab_a.client.get(ME, headers=tab_a.headers), 401, "token_revoked")
