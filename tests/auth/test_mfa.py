"""Two-factor sign-in through the HTTP API: enrolment, login, step-up, disable.

Codes come from pyotp (tests/auth/mfa.py), never from the server's own TOTP code.
"""

import base64
import threading
import uuid

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import TotpCredential, User
from tests.auth.flows import NEW_PASSWORD
from tests.auth.mfa import (
    code_at,
    enrol,
    mode_headers,
    password_step,
    verify,
    wrong_code,
)
from tests.conftest import PASSWORD, cookie_value
from tests.helpers import assert_error, assert_ok, set_cookie_headers
from tests.tokens import claims_of
from tests.urls import (
    LOGIN,
    ME,
    MFA_CONFIRM,
    MFA_RECOVERY_CODES,
    MFA_SETUP,
    MFA_STEP_UP,
    MFA_TOTP,
    PASSWORD_CHANGE,
    REFRESH,
    SESSIONS,
)


@pytest.fixture
def settings(mail_settings):
    return mail_settings


def me(caller):
    return assert_ok(caller.client.get(ME, headers=caller.headers))["user"]


# Enrolment


def test_setup_answers_secret_uri_and_svg_and_enables_nothing(auth):
    caller = auth.register()
    data = assert_ok(
        caller.client.post(
            MFA_SETUP, json={"password": PASSWORD}, headers=caller.headers
        )
    )
    assert set(data) == {"secret", "otpauthUri", "qrSvg"}
    assert len(base64.b32decode(data["secret"])) == 20
    uri = data["otpauthUri"]
    assert uri.startswith("otpauth://totp/auth-server:")
    assert f"secret={data['secret']}" in uri and "issuer=auth-server" in uri
    assert (
        caller.extra["email"].replace("@", "%40") in uri or caller.extra["email"] in uri
    )
    assert data["qrSvg"].startswith("<svg") and "</svg>" in data["qrSvg"]
    assert me(caller)["mfaEnabled"] is False
    # Not yet on: login answers as before.
    assert "accessToken" in password_step(caller.client, caller.extra["email"])[0]


def test_setup_needs_the_password(auth):
    caller = auth.register()
    response = caller.client.post(
        MFA_SETUP, json={"password": "wrong password"}, headers=caller.headers
    )
    assert_error(response, 400, "invalid_credentials")


def test_confirm_turns_it_on_with_ten_recovery_codes_and_mails(auth, mailbox):
    caller = auth.register()
    secret, codes = enrol(caller)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert me(caller)["mfaEnabled"] is True
    [notice] = mailbox.wait_for(1)
    assert notice.subject == "Two-factor sign-in was turned on"
    assert "turned on" in notice.text and "UTC" in notice.text
    assert secret not in notice.text


def test_the_secret_is_encrypted_at_rest_and_never_shown_again(app, auth):
    caller = auth.register()
    secret, _ = enrol(caller)
    raw = base64.b32decode(secret)
    with app.app_context():
        row = db.session.scalar(select(TotpCredential))
        assert raw not in row.secret_ciphertext
        assert secret.encode() not in row.secret_ciphertext
        assert row.key_id.startswith("sk-")
    assert secret not in caller.client.get(ME, headers=caller.headers).get_data(True)


def test_a_wrong_confirm_leaves_mfa_off(auth):
    caller = auth.register()
    setup = assert_ok(
        caller.client.post(
            MFA_SETUP, json={"password": PASSWORD}, headers=caller.headers
        )
    )
    response = caller.client.post(
        MFA_CONFIRM, json={"code": wrong_code(setup["secret"])}, headers=caller.headers
    )
    assert_error(response, 400, "invalid_mfa_code")
    assert me(caller)["mfaEnabled"] is False


def test_confirm_without_setup_and_setup_when_on_are_409(auth, move_clock):
    caller = auth.register()
    response = caller.client.post(
        MFA_CONFIRM, json={"code": "123456"}, headers=caller.headers
    )
    assert_error(response, 409, "mfa_not_pending")
    enrol(caller, move_clock)
    response = caller.client.post(
        MFA_SETUP, json={"password": PASSWORD}, headers=caller.headers
    )
    assert_error(response, 409, "mfa_already_enabled")


# Login


@pytest.mark.parametrize("mode", ["bearer", "cookie"])
def test_login_then_verify_answers_what_login_answers(auth, move_clock, mode):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    client = auth.app.test_client()
    data, response = password_step(client, caller.extra["email"], mode=mode)
    assert data == {
        "mfaRequired": True,
        "mfaToken": data["mfaToken"],
        "mfaTokenExpiresIn": 300,
        "methods": ["totp", "recovery_code"],
    }
    assert "Authorization" not in response.headers
    assert not set_cookie_headers(response, "refresh_token")
    assert claims_of(data["mfaToken"]).keys() >= {"sub", "jti", "exp"}

    response = verify(client, data["mfaToken"], mode=mode, code=code_at(secret))
    tokens = assert_ok(response)
    assert tokens["email"] == caller.extra["email"]
    claims = claims_of(tokens["accessToken"])
    assert claims["amr"] == ["pwd", "otp"] and claims["acr"] == "aal2"
    assert isinstance(claims["auth_time"], int)
    if mode == "bearer":
        assert tokens["refreshToken"] and tokens["deviceToken"]
    else:
        assert "refreshToken" not in tokens
        assert set_cookie_headers(response, "refresh_token")
        refreshed = client.post(
            REFRESH,
            headers={"X-CSRF-TOKEN": cookie_value(client, "csrf_refresh_token")},
        )
        # The refreshed token keeps how the session was authenticated.
        assert claims_of(assert_ok(refreshed)["accessToken"])["amr"] == ["pwd", "otp"]
    sessions = assert_ok(
        client.get(
            SESSIONS, headers={"Authorization": f"Bearer {tokens['accessToken']}"}
        )
    )["sessions"]
    current = next(entry for entry in sessions if entry["current"])
    assert current["amr"] == ["pwd", "otp"] and current["acr"] == "aal2"


def test_accounts_without_mfa_log_in_with_password_only_claims(auth):
    caller = auth.register()
    claims = claims_of(auth.login(caller.extra["email"]).access_token)
    assert claims["amr"] == ["pwd"] and claims["acr"] == "aal1"


def test_an_mfa_token_works_once(auth, move_clock):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    data, _ = password_step(caller.client, caller.extra["email"])
    assert_ok(verify(caller.client, data["mfaToken"], code=code_at(secret)))
    move_clock(seconds=30)
    again = verify(caller.client, data["mfaToken"], code=code_at(secret))
    assert_error(again, 401, "token_invalid")


def test_a_code_is_accepted_once(auth, move_clock):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    code = code_at(secret)
    first, _ = password_step(caller.client, caller.extra["email"])
    assert_ok(verify(caller.client, first["mfaToken"], code=code))
    second, _ = password_step(caller.client, caller.extra["email"])
    assert_error(
        verify(caller.client, second["mfaToken"], code=code), 401, "invalid_mfa_code"
    )


@pytest.mark.parametrize(
    "offset, accepted", [(-30, True), (30, True), (-60, False), (60, False)]
)
def test_one_step_of_drift_either_way_and_no_more(auth, move_clock, offset, accepted):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    move_clock(seconds=60)
    data, _ = password_step(caller.client, caller.extra["email"])
    response = verify(caller.client, data["mfaToken"], code=code_at(secret, offset))
    if accepted:
        assert_ok(response)
    else:
        assert_error(response, 401, "invalid_mfa_code")


def test_five_wrong_codes_kill_the_mfa_token(auth, move_clock):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    data, _ = password_step(caller.client, caller.extra["email"])
    for _ in range(5):
        response = verify(caller.client, data["mfaToken"], code=wrong_code(secret))
        assert_error(response, 401, "invalid_mfa_code")
    response = verify(caller.client, data["mfaToken"], code=code_at(secret))
    assert_error(response, 401, "token_invalid")


def test_an_old_mfa_token_is_token_expired(auth, move_clock):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    data, _ = password_step(caller.client, caller.extra["email"])
    move_clock(seconds=301)
    response = verify(caller.client, data["mfaToken"], code=code_at(secret))
    assert_error(response, 401, "token_expired")


def test_the_mfa_token_is_bound_to_its_transport(auth, move_clock):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    data, _ = password_step(caller.client, caller.extra["email"], mode="bearer")
    response = verify(
        caller.client, data["mfaToken"], mode="cookie", code=code_at(secret)
    )
    assert_error(response, 401, "token_invalid")


def test_tokens_are_not_each_other(auth, move_clock):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    data, _ = password_step(caller.client, caller.extra["email"])
    mfa_token = data["mfaToken"]
    bearer = {"Authorization": f"Bearer {mfa_token}"}
    assert_error(caller.client.get(ME, headers=bearer), 401, "token_invalid")
    assert_error(caller.client.post(REFRESH, headers=bearer), 401, "token_invalid")
    assert_error(
        caller.client.post(REFRESH, json={"refreshToken": mfa_token}),
        401,
        "token_invalid",
    )
    for other in (caller.access_token, caller.refresh_token):
        response = verify(caller.client, other, code=code_at(secret))
        assert_error(response, 401, "token_invalid")
    # Still usable afterwards: the refusals spent nothing.
    assert_ok(verify(caller.client, mfa_token, code=code_at(secret)))


def test_a_recovery_code_works_once(auth, move_clock):
    caller = auth.register()
    _, codes = enrol(caller, move_clock)
    data, _ = password_step(caller.client, caller.extra["email"])
    tokens = assert_ok(
        verify(caller.client, data["mfaToken"], recoveryCode=codes[0].upper())
    )
    assert claims_of(tokens["accessToken"])["amr"] == ["pwd", "otp"]
    data, _ = password_step(caller.client, caller.extra["email"])
    response = verify(caller.client, data["mfaToken"], recoveryCode=codes[0])
    assert_error(response, 401, "invalid_mfa_code")
    assert_ok(
        verify(caller.client, data["mfaToken"], recoveryCode=codes[1].replace("-", ""))
    )


def test_a_deactivated_account_cannot_finish_its_login(app, auth, move_clock):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    data, _ = password_step(caller.client, caller.extra["email"])
    with app.app_context():
        user = db.session.get(User, uuid.UUID(caller.user["id"]))
        user.is_active = False
        db.session.commit()
    response = verify(caller.client, data["mfaToken"], code=code_at(secret))
    assert_error(response, 403, "account_disabled")


def test_parallel_verifies_with_one_mfa_token_exactly_one_succeeds(auth, move_clock):
    caller = auth.register()
    secret, codes = enrol(caller, move_clock)
    data, _ = password_step(caller.client, caller.extra["email"])
    factors = [{"code": code_at(secret)}] + [
        {"recoveryCode": code} for code in codes[:5]
    ]
    statuses = []
    barrier = threading.Barrier(len(factors))

    def attempt(factor):
        client = auth.app.test_client()
        barrier.wait()
        statuses.append(verify(client, data["mfaToken"], **factor).status_code)

    threads = [threading.Thread(target=attempt, args=(factor,)) for factor in factors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [401] * (len(factors) - 1)


BAD_CODES = [
    "123 456",
    " 123456",
    "12345",
    "1234567",
    "12345a",
    "１２３４５６",
    "123456\n",
    "9" * 100_000,
    None,
    123456,
    "",
]


@pytest.mark.parametrize("code", BAD_CODES, ids=range(len(BAD_CODES)))
def test_malformed_codes_are_400_everywhere(auth, move_clock, code):
    caller = auth.register()
    enrol(caller, move_clock)
    data, _ = password_step(caller.client, caller.extra["email"])
    big = isinstance(code, str) and len(code) > 1000
    for response in (
        verify(caller.client, data["mfaToken"], code=code),
        caller.client.post(MFA_STEP_UP, json={"code": code}, headers=caller.headers),
        caller.client.post(
            MFA_RECOVERY_CODES, json={"code": code}, headers=caller.headers
        ),
    ):
        if big:
            assert response.status_code in (400, 413), response.get_json()
        else:
            assert_error(response, 400, "validation_error")
    for body in ({}, {"code": "123456", "recoveryCode": "aaaa-bbbb-cccc-dddd"}):
        response = verify(caller.client, data["mfaToken"], **body)
        assert_error(response, 400, "validation_error")


# Step-up and sensitive actions


def test_password_change_needs_a_recent_second_factor(auth, move_clock):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    move_clock(seconds=301)
    change = {"oldPassword": PASSWORD, "newPassword": NEW_PASSWORD}
    response = caller.client.post(PASSWORD_CHANGE, json=change, headers=caller.headers)
    assert_error(response, 403, "mfa_required")

    stepped = assert_ok(
        caller.client.post(
            MFA_STEP_UP, json={"code": code_at(secret)}, headers=caller.headers
        )
    )
    claims = claims_of(stepped["accessToken"])
    assert claims["amr"] == ["pwd", "otp"] and claims["acr"] == "aal2"
    assert claims["sid"] == claims_of(caller.access_token)["sid"]
    headers = {"Authorization": f"Bearer {stepped['accessToken']}"}
    assert_ok(caller.client.post(PASSWORD_CHANGE, json=change, headers=headers))


def test_a_fresh_mfa_login_may_change_the_password_and_it_wears_off(auth, move_clock):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    data, _ = password_step(caller.client, caller.extra["email"])
    tokens = assert_ok(verify(caller.client, data["mfaToken"], code=code_at(secret)))
    headers = {"Authorization": f"Bearer {tokens['accessToken']}"}
    move_clock(seconds=301)
    change = {"oldPassword": PASSWORD, "newPassword": NEW_PASSWORD}
    response = caller.client.post(PASSWORD_CHANGE, json=change, headers=headers)
    assert_error(response, 403, "mfa_required")


def test_step_up_with_a_wrong_code_and_without_mfa(auth, move_clock):
    caller = auth.register()
    response = caller.client.post(
        MFA_STEP_UP, json={"code": "123456"}, headers=caller.headers
    )
    assert_error(response, 409, "mfa_not_enabled")
    secret, _ = enrol(caller, move_clock)
    response = caller.client.post(
        MFA_STEP_UP, json={"code": wrong_code(secret)}, headers=caller.headers
    )
    assert_error(response, 400, "invalid_mfa_code")


def test_recovery_codes_are_replaced_as_a_set(auth, move_clock):
    caller = auth.register()
    secret, old = enrol(caller, move_clock)
    new = assert_ok(
        caller.client.post(
            MFA_RECOVERY_CODES, json={"code": code_at(secret)}, headers=caller.headers
        )
    )["recoveryCodes"]
    assert len(new) == 10 and not set(new) & set(old)
    data, _ = password_step(caller.client, caller.extra["email"])
    response = verify(caller.client, data["mfaToken"], recoveryCode=old[0])
    assert_error(response, 401, "invalid_mfa_code")
    assert_ok(verify(caller.client, data["mfaToken"], recoveryCode=new[0]))


# Disable


def test_disable_needs_password_and_code_and_failures_leave_it_on(auth, move_clock):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    for body, code in (
        (
            {"password": "wrong password", "code": code_at(secret)},
            "invalid_credentials",
        ),
        ({"password": PASSWORD, "code": wrong_code(secret)}, "invalid_mfa_code"),
        (
            {"password": PASSWORD, "recoveryCode": "aaaa-bbbb-cccc-dddd"},
            "invalid_mfa_code",
        ),
    ):
        response = caller.client.delete(MFA_TOTP, json=body, headers=caller.headers)
        assert_error(response, 400, code)
        assert me(caller)["mfaEnabled"] is True


def test_disable_ends_other_sessions_mails_and_login_is_plain_again(
    auth, move_clock, mailbox
):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    data, _ = password_step(caller.client, caller.extra["email"])
    other = assert_ok(
        verify(auth.app.test_client(), data["mfaToken"], code=code_at(secret))
    )
    move_clock(seconds=30)
    response = caller.client.delete(
        MFA_TOTP,
        json={"password": PASSWORD, "code": code_at(secret)},
        headers=caller.headers,
    )
    assert_ok(response)
    assert me(caller)["mfaEnabled"] is False
    other_headers = {"Authorization": f"Bearer {other['accessToken']}"}
    assert_error(caller.client.get(ME, headers=other_headers), 401, "token_revoked")
    subjects = sorted(mail.subject for mail in mailbox.wait_for(2))
    assert subjects == [
        "Two-factor sign-in was turned off",
        "Two-factor sign-in was turned on",
    ]
    response = caller.client.post(
        LOGIN,
        json={"email": caller.extra["email"], "password": PASSWORD},
        headers=mode_headers("bearer"),
    )
    assert "accessToken" in assert_ok(response)


def test_disable_when_off_is_409(auth):
    caller = auth.register()
    response = caller.client.delete(
        MFA_TOTP, json={"password": PASSWORD, "code": "123456"}, headers=caller.headers
    )
    assert_error(response, 409, "mfa_not_enabled")
