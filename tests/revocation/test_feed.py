"""GET /.well-known/revocations: every revocation path feeds it, signed, cacheable."""

import threading
import time

import jwt
import pytest

from tests.auth.keys.support import asymmetric_settings, token_parts
from tests.helpers import assert_error
from tests.urls import JWKS, LOGOUT, LOGOUT_ALL, REVOCATIONS, SESSIONS

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def settings():
    return asymmetric_settings("EdDSA")


def read_feed(client, since=None, **params):
    if since is not None:
        params["since"] = since
    answer = client.get(REVOCATIONS, query_string=params)
    assert answer.status_code == 200, answer.data
    assert answer.mimetype == "application/jwt"
    public_key = jwt.PyJWK(client.get(JWKS).json["keys"][0]).key
    token = answer.get_data(as_text=True)
    claims = jwt.decode(token, public_key, algorithms=["EdDSA"], issuer="auth-server")
    return answer, token_parts(token)[0], claims


def revoked_sids(claims):
    return {entry["sid"] for entry in claims["revoked"]}


def test_logout_lands_in_the_signed_feed(client, auth):
    caller = auth.register()
    _, _, before = read_feed(client)
    assert client.post(LOGOUT, headers=caller.headers).status_code == 200
    answer, header, claims = read_feed(client, before["cursor"])
    assert header["typ"] == "revocations+jwt"
    assert header["kid"] == client.get(JWKS).json["keys"][0]["kid"]
    sid = token_parts(caller.access_token)[1]["sid"]
    assert revoked_sids(claims) == {sid}
    [entry] = claims["revoked"]
    access_exp = token_parts(caller.access_token)[1]["exp"]
    assert access_exp <= entry["until"] <= access_exp + 120
    assert int(claims["cursor"]) > int(before["cursor"])
    assert answer.headers["X-Accel-Buffering"] == "no"
    assert answer.headers["Cache-Control"] == "no-cache"
    # From the new cursor on, nothing.
    _, _, after = read_feed(client, claims["cursor"])
    assert after["revoked"] == [] and after["cursor"] == claims["cursor"]


def test_logout_all_and_session_revoke_feed_every_session(client, auth):
    caller = auth.register()
    email = caller.extra["email"]
    others = [auth.login(email) for _ in range(2)]
    sid_of = lambda tokens: token_parts(tokens.access_token)[1]["sid"]  # noqa: E731
    revoked = client.delete(f"{SESSIONS}/{sid_of(others[0])}", headers=caller.headers)
    assert revoked.status_code == 200
    _, _, claims = read_feed(client)
    assert revoked_sids(claims) == {sid_of(others[0])}
    assert client.post(LOGOUT_ALL, headers=caller.headers).status_code == 200
    _, _, claims = read_feed(client, claims["cursor"])
    assert revoked_sids(claims) == {sid_of(caller), sid_of(others[1])}


def test_etag_answers_304(client, auth):
    auth.register()
    first = client.get(REVOCATIONS)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    again = client.get(REVOCATIONS, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag


@pytest.mark.parametrize("since", ["abc", "-1", "1.5", "9" * 19, "٣", "1 ", "0x10", ""])
def test_garbage_cursor_is_400(client, since):
    assert_error(
        client.get(REVOCATIONS, query_string={"since": since}), 400, "validation_error"
    )


def test_cursor_from_the_future_is_400(client):
    assert_error(
        client.get(REVOCATIONS, query_string={"since": "999999"}), 400, "invalid_cursor"
    )


@pytest.mark.parametrize("wait", ["-1", "x", "301", "1e3"])
def test_bad_wait_is_400(client, wait):
    assert_error(
        client.get(REVOCATIONS, query_string={"wait": wait}), 400, "validation_error"
    )


def test_unknown_parameter_is_400(client):
    assert_error(
        client.get(REVOCATIONS, query_string={"cursor": "1"}), 400, "validation_error"
    )


def test_long_poll_answers_as_soon_as_a_session_is_revoked(client, auth, app):
    caller = auth.register()
    _, _, start = read_feed(client)
    found = {}

    def poll():
        with app.test_client() as poller:
            began = time.monotonic()
            found["claims"] = read_feed(poller, start["cursor"], wait=10)[2]
            found["seconds"] = time.monotonic() - began

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.5)
    assert client.post(LOGOUT, headers=caller.headers).status_code == 200
    thread.join(10)
    assert revoked_sids(found["claims"]) == {token_parts(caller.access_token)[1]["sid"]}
    assert 0.5 <= found["seconds"] < 2


@pytest.mark.config(REVOCATION_FEED_MAX_WAIT=1)
def test_long_poll_is_bounded(client):
    _, _, start = read_feed(client)
    began = time.monotonic()
    _, _, claims = read_feed(client, start["cursor"], wait=25)
    assert claims["revoked"] == []
    assert 0.9 <= time.monotonic() - began < 3


@pytest.mark.config(REVOCATION_FEED_MAX_WAITERS=0)
def test_polls_past_the_cap_are_answered_at_once(client):
    _, _, start = read_feed(client)
    began = time.monotonic()
    read_feed(client, start["cursor"], wait=10)
    assert time.monotonic() - began < 1


def test_entries_leave_once_the_tokens_expired(client, auth, move_clock):
    caller = auth.register()
    client.post(LOGOUT, headers=caller.headers)
    assert read_feed(client)[2]["revoked"]
    move_clock(seconds=3600 + 61)
    assert read_feed(client)[2]["revoked"] == []


def test_hs256_has_no_feed(make_app):
    client = make_app(JWT_ALGORITHM="HS256").test_client()
    assert_error(client.get(REVOCATIONS), 404, "not_found")


def test_a_follower_misses_no_revocation_of_parallel_transactions(client, auth, app):
    callers = [auth.register() for _ in range(12)]
    sid_of = lambda tokens: token_parts(tokens.access_token)[1]["sid"]  # noqa: E731
    _, _, start = read_feed(client)
    seen, done = set(), threading.Event()

    def follow():
        cursor = start["cursor"]
        with app.test_client() as follower:
            while True:
                finished = done.is_set()
                _, _, claims = read_feed(follower, cursor)
                seen.update(revoked_sids(claims))
                cursor = claims["cursor"]
                if finished:
                    return

    def logout(caller):
        with app.test_client() as own:
            assert own.post(LOGOUT, headers=caller.headers).status_code == 200

    follower = threading.Thread(target=follow)
    follower.start()
    threads = [threading.Thread(target=logout, args=(c,)) for c in callers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    done.set()
    follower.join(30)
    assert seen == {sid_of(caller) for caller in callers}
