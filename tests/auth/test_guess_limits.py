"""Every way to guess a password is limited, and the owner is not locked out.

Wrong passwords at login and wrong old passwords on /password/change count in the
same counters (per account, per client IP); successes do not count per account; a
device that signed in before (its device token) is counted per device instead of
per account; verification mails are limited per user and per IP.
"""

from unittest import mock

import jwt
import pytest

from app.auth import passwords
from tests.conftest import PASSWORD
from tests.helpers import cookie_attributes, set_cookie_headers
from tests.urls import AUTH, EMAIL_VERIFY_REQUEST, LOGIN, LOGOUT, PASSWORD_CHANGE

WRONG = "not the password 42"
NEW_PASSWORD = "a brand new passphrase 42"
MANY = "1000 per minute"

pytestmark = pytest.mark.ratelimit


def assert_limited(response):
    body = response.get_json()
    assert response.status_code == 429, body
    assert body == {
        "success": False,
        "error": body["error"],
        "code": "rate_limited",
    }
    assert body["error"]
    assert int(response.headers["Retry-After"]) >= 1


def login(client, email, password=WRONG, *, ip="192.0.2.1", device=None, bearer=True):
    body = {"email": email, "password": password}
    if device is not None:
        body["deviceToken"] = device
    headers = {"X-Auth-Mode": "bearer"} if bearer else {}
    return client.post(
        LOGIN, json=body, headers=headers, environ_base={"REMOTE_ADDR": ip}
    )


def change(caller, old=WRONG, *, ip="192.0.2.1", device=None):
    body = {"oldPassword": old, "newPassword": NEW_PASSWORD}
    if device is not None:
        body["deviceToken"] = device
    return caller.client.post(
        PASSWORD_CHANGE,
        json=body,
        headers=caller.headers,
        environ_base={"REMOTE_ADDR": ip},
    )


def lock_account(app, email, count):
    """Anonymous wrong passwords from many IPs until the account is locked."""
    attacker = app.test_client()
    for number in range(count):
        assert login(attacker, email, ip=f"203.0.113.{number}").status_code == 401
    assert_limited(login(attacker, email, PASSWORD, ip="203.0.113.200"))


def device_id(token):
    return jwt.decode(token, options={"verify_signature": False})["did"]


# Login: failures only, per account


@pytest.mark.config(RATELIMIT_LOGIN=MANY, RATELIMIT_LOGIN_ACCOUNT="2 per minute")
def test_successful_logins_do_not_count_per_account(app, auth):
    caller = auth.register()
    email = caller.extra["email"]
    client = app.test_client()
    for number in range(5):
        response = login(client, email, PASSWORD, ip=f"198.51.100.{number}")
        assert response.status_code == 200, response.get_json()
    for number in range(2):
        assert login(client, email, ip=f"198.51.100.{number}").status_code == 401
    assert_limited(login(client, email, PASSWORD, ip="198.51.100.99"))


@pytest.mark.config(RATELIMIT_LOGIN=MANY, RATELIMIT_LOGIN_ACCOUNT="2 per minute")
def test_owner_with_a_device_token_logs_in_while_the_account_is_locked(app, auth):
    owner = auth.register()
    email = owner.extra["email"]
    assert owner.device_token
    lock_account(app, email, 2)
    response = login(app.test_client(), email, PASSWORD, device=owner.device_token)
    data = response.get_json()["data"]
    assert response.status_code == 200, data
    # The login renews the token and keeps the device.
    assert device_id(data["deviceToken"]) == device_id(owner.device_token)
    # Anonymous attempts are still locked out.
    assert_limited(login(app.test_client(), email, PASSWORD))


@pytest.mark.config(RATELIMIT_LOGIN=MANY, RATELIMIT_LOGIN_ACCOUNT="2 per minute")
def test_browser_device_cookie_lets_the_owner_in_while_locked(app, auth):
    owner = auth.register(mode="cookie")
    email = owner.extra["email"]
    # The cookie outlives the session: logout keeps it.
    owner.client.post(LOGOUT, headers={"X-CSRF-TOKEN": owner.csrf_token})
    lock_account(app, email, 2)
    response = login(owner.client, email, PASSWORD, bearer=False)
    assert response.status_code == 200, response.get_json()
    assert "deviceToken" not in response.get_json()["data"]
    [header] = set_cookie_headers(response, "device_token")
    value, attributes = cookie_attributes(header)
    assert value
    assert attributes["httponly"] is True
    assert attributes["secure"] is True
    assert attributes["samesite"] == "Strict"
    assert attributes["path"] == AUTH
    assert int(attributes["max-age"]) == 365 * 86400


@pytest.mark.config(
    RATELIMIT_LOGIN=MANY,
    RATELIMIT_LOGIN_ACCOUNT="2 per minute",
    RATELIMIT_LOGIN_DEVICE="2 per minute",
)
def test_wrong_passwords_with_a_device_token_count_per_device(app, auth):
    owner = auth.register()
    email = owner.extra["email"]
    client = app.test_client()
    for number in range(2):
        response = login(
            client, email, device=owner.device_token, ip=f"10.0.0.{number}"
        )
        assert response.status_code == 401
    assert_limited(login(client, email, PASSWORD, device=owner.device_token))
    # The account's own counter was not touched: a login without the token works.
    assert login(client, email, PASSWORD).status_code == 200


@pytest.mark.config(RATELIMIT_LOGIN=MANY, RATELIMIT_LOGIN_ACCOUNT="2 per minute")
@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a" * 4096,
        "x" * 5000,
        "e30.e30.",
        # Right shape, wrong key.
        jwt.encode(
            {
                "sub": "x",
                "did": "d",
                "acc": "a",
                "iss": "auth-server",
                "aud": "auth-server",
            },
            "not the server key, but just as long as one",
            headers={"typ": "dt+jwt"},
        ),
    ],
    ids=["garbage", "long", "too-long", "empty-jws", "forged"],
)
def test_an_invalid_device_token_is_ignored(app, auth, token):
    owner = auth.register()
    email = owner.extra["email"]
    lock_account(app, email, 2)
    assert_limited(login(app.test_client(), email, PASSWORD, device=token))
    # Sent as the cookie (within what a browser keeps): ignored the same way.
    client = app.test_client()
    client.set_cookie("device_token", token[:3000], path=AUTH)
    assert_limited(login(client, email, PASSWORD, bearer=False))


@pytest.mark.config(RATELIMIT_LOGIN=MANY, RATELIMIT_LOGIN_ACCOUNT="2 per minute")
def test_a_device_token_of_another_account_is_ignored(app, auth):
    owner = auth.register()
    other = auth.register()
    lock_account(app, owner.extra["email"], 2)
    response = login(
        app.test_client(), owner.extra["email"], PASSWORD, device=other.device_token
    )
    assert_limited(response)


@pytest.mark.config(
    RATELIMIT_LOGIN=MANY,
    RATELIMIT_LOGIN_ACCOUNT="2 per minute",
    DEVICE_TOKEN_TTL_DAYS=0,
)
def test_an_expired_device_token_is_ignored(app, auth):
    # A lifetime of 0: the token expires as it is issued.
    owner = auth.register()
    lock_account(app, owner.extra["email"], 2)
    response = login(
        app.test_client(), owner.extra["email"], PASSWORD, device=owner.device_token
    )
    assert_limited(response)


@pytest.mark.config(RATELIMIT_LOGIN=MANY, RATELIMIT_LOGIN_ACCOUNT=MANY)
def test_a_device_token_of_another_account_gets_a_new_device(app, auth):
    owner = auth.register()
    other = auth.register()
    response = login(
        app.test_client(), owner.extra["email"], PASSWORD, device=other.device_token
    )
    assert response.status_code == 200
    renewed = response.get_json()["data"]["deviceToken"]
    assert device_id(renewed) not in {
        device_id(owner.device_token),
        device_id(other.device_token),
    }


@pytest.mark.config(RATELIMIT_LOGIN=MANY, RATELIMIT_LOGIN_ACCOUNT=MANY)
def test_a_device_token_that_is_not_a_string_is_a_400(app, auth):
    owner = auth.register()
    response = login(app.test_client(), owner.extra["email"], PASSWORD, device=42)
    assert response.status_code == 400
    assert response.get_json()["code"] == "validation_error"


# Password change: wrong old passwords are failed logins of the account and IP


@pytest.mark.config(RATELIMIT_LOGIN=MANY, RATELIMIT_LOGIN_ACCOUNT="3 per minute")
def test_password_change_guesses_lock_login_for_the_account(app, auth):
    thief = auth.register()  # a stolen access token: no device token sent
    email = thief.extra["email"]
    for number in range(3):
        response = change(thief, ip=f"198.51.100.{number}")
        assert response.status_code == 400
        assert response.get_json()["code"] == "invalid_credentials"
    # No fourth guess, even the right one, and no bcrypt work for it.
    with mock.patch(
        "app.auth.passwords.bcrypt.checkpw", wraps=passwords.bcrypt.checkpw
    ) as checkpw:
        assert_limited(change(thief, PASSWORD, ip="198.51.100.50"))
        # And anonymous logins of the account are locked too.
        assert_limited(login(app.test_client(), email, PASSWORD, ip="203.0.113.9"))
    assert checkpw.call_count == 0


@pytest.mark.config(RATELIMIT_LOGIN="3 per minute", RATELIMIT_LOGIN_ACCOUNT=MANY)
def test_password_change_guesses_lock_login_for_the_ip(app, auth):
    thief = auth.register()
    bystander = auth.register()
    for _ in range(3):
        assert change(thief, ip="198.51.100.7").status_code == 400
    client = app.test_client()
    assert_limited(login(client, bystander.extra["email"], PASSWORD, ip="198.51.100.7"))
    assert (
        login(client, bystander.extra["email"], PASSWORD, ip="198.51.100.8").status_code
        == 200
    )


@pytest.mark.config(
    RATELIMIT_LOGIN="2 per minute", RATELIMIT_LOGIN_ACCOUNT="2 per minute"
)
def test_login_failures_lock_password_change(app, auth):
    owner = auth.register()
    lock_account(app, owner.extra["email"], 2)
    assert_limited(change(owner, PASSWORD, ip="198.51.100.1"))


@pytest.mark.config(
    RATELIMIT_LOGIN="2 per minute", RATELIMIT_LOGIN_ACCOUNT="2 per minute"
)
def test_successful_password_changes_do_not_count(app, auth):
    owner = auth.register()
    old = PASSWORD
    for number in range(4):
        new = f"{NEW_PASSWORD} {number}"
        response = owner.client.post(
            PASSWORD_CHANGE,
            json={"oldPassword": old, "newPassword": new},
            headers=owner.headers,
        )
        assert response.status_code == 200, response.get_json()
        old = new


@pytest.mark.config(RATELIMIT_LOGIN=MANY, RATELIMIT_LOGIN_ACCOUNT="2 per minute")
def test_owner_with_a_device_token_changes_the_password_while_locked(app, auth):
    owner = auth.register()
    lock_account(app, owner.extra["email"], 2)
    response = change(owner, PASSWORD, device=owner.device_token)
    assert response.status_code == 200, response.get_json()


def test_unauthenticated_password_changes_count_nothing(app):
    client = app.test_client()
    body = {"oldPassword": WRONG, "newPassword": NEW_PASSWORD}
    for _ in range(3):
        response = client.post(PASSWORD_CHANGE, json=body)
        assert response.status_code == 401
        assert "X-RateLimit-Limit" not in response.headers


# Verification mails: per user (cooldown and hourly cap) and per IP


def request_verification(caller, ip="192.0.2.1"):
    return caller.client.post(
        EMAIL_VERIFY_REQUEST, headers=caller.headers, environ_base={"REMOTE_ADDR": ip}
    )


def test_verification_mail_has_a_cooldown_per_user(app, auth):
    victim = auth.register()
    assert request_verification(victim).status_code == 202
    for number in range(3):
        assert_limited(request_verification(victim, ip=f"198.51.100.{number}"))
    # Another user is not held up.
    assert request_verification(auth.register()).status_code == 202


@pytest.mark.config(RATELIMIT_EMAIL_VERIFY="10 per minute; 3 per hour")
def test_verification_mail_has_an_hourly_cap_per_user(app, auth):
    victim = auth.register()
    for _ in range(3):
        assert request_verification(victim).status_code == 202
    response = request_verification(victim)
    assert_limited(response)
    assert response.headers["X-RateLimit-Limit"] == "3"


@pytest.mark.config(RATELIMIT_EMAIL_VERIFY_IP="2 per hour")
def test_verification_mail_is_limited_per_ip(app, auth):
    for _ in range(2):
        assert (
            request_verification(auth.register(), ip="198.51.100.5").status_code == 202
        )
    assert_limited(request_verification(auth.register(), ip="198.51.100.5"))
    assert request_verification(auth.register(), ip="198.51.100.6").status_code == 202


@pytest.mark.ratelimit
@pytest.mark.config(BCRYPT_MAX_WAITING=32)
def test_parallel_guesses_cannot_outrun_the_failure_count(app, make_user):
    """Twelve wrong passwords at once for one account: at most the limit get a try."""
    import threading

    email = make_user().email
    barrier = threading.Barrier(12)
    statuses = []

    def guess():
        client = app.test_client()
        barrier.wait()
        response = client.post(
            LOGIN,
            json={"email": email, "password": "not the password 1"},
            environ_base={"REMOTE_ADDR": f"198.51.100.{len(statuses) % 200 + 1}"},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(statuses) == 12
    assert statuses.count(401) <= 5, statuses
    assert set(statuses) <= {401, 429}, statuses
