"""Passkeys through the HTTP API, answered by a software authenticator of the tests.

tests/auth/authenticator.py signs with its own P-256 key, as a browser's platform
authenticator would; the server checks everything with py_webauthn.
"""

import copy
import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Passkey, PasskeyChallenge, User
from tests.auth.authenticator import Authenticator, b64url
from tests.auth.mfa import code_at, enrol, password_step, verify
from tests.auth.passkeys import (
    add_passkey,
    login_options,
    login_verify,
    register_options,
    register_verify,
    sign_in,
)
from tests.conftest import cookie_value
from tests.helpers import assert_error, assert_ok, set_cookie_headers
from tests.tokens import claims_of
from tests.urls import (
    LOGIN,
    ME,
    MFA_PASSKEY_OPTIONS,
    MFA_STEP_UP,
    PASSKEY_LOGIN_OPTIONS,
    PASSKEY_REGISTER_OPTIONS,
    PASSKEYS,
    SECURITY_EVENTS,
    admin_user,
    passkey,
)


@pytest.fixture
def settings(mail_settings):
    return mail_settings


def stored_passkeys(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Passkey))


def listed(caller):
    return assert_ok(caller.client.get(PASSKEYS, headers=caller.headers))["passkeys"]


def feed_types(caller):
    data = assert_ok(caller.client.get(SECURITY_EVENTS, headers=caller.headers))
    return [event["type"] for event in data["events"]]


# Registration


def test_register_options_ask_for_a_discoverable_verified_passkey(auth):
    caller = auth.register()
    options = register_options(caller)
    assert options["rp"] == {"name": "auth-server", "id": "localhost"}
    assert options["user"]["name"] == caller.extra["email"]
    assert options["user"]["displayName"] == "Ada"
    # The user handle is the account id, never the email.
    assert options["user"]["id"] == b64url(
        __import__("uuid").UUID(caller.user["id"]).bytes
    )
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["excludeCredentials"] == []
    assert options["timeout"] == 300_000
    assert {"type": "public-key", "alg": -7} in options["pubKeyCredParams"]
    assert len(options["challenge"]) >= 43


def test_register_stores_the_passkey_lists_it_and_mails_a_notice(auth, mailbox):
    caller = auth.register()
    authenticator, data = add_passkey(caller, name="  Work laptop  ")
    assert data["name"] == "Work laptop"
    assert data["transports"] == ["internal", "hybrid"]
    assert data["backedUp"] is True and data["lastUsedAt"] is None
    [entry] = listed(caller)
    assert entry == data
    [notice] = mailbox.wait_for(1)
    assert notice.subject == "A passkey was added to your account"
    assert "Work laptop" in notice.text
    # The next options exclude it.
    options = register_options(caller)
    assert [item["id"] for item in options["excludeCredentials"]] == [
        b64url(authenticator.credential_id)
    ]
    assert "passkey_added" in feed_types(caller)


def test_the_same_authenticator_twice_is_409_and_stored_once(app, auth):
    caller = auth.register()
    authenticator, _ = add_passkey(caller)
    again = authenticator.create(register_options(caller))
    assert_error(register_verify(caller, again), 409, "passkey_exists")
    other = auth.register()
    elsewhere = authenticator.create(register_options(other))
    assert_error(register_verify(other, elsewhere), 409, "passkey_exists")
    assert stored_passkeys(app) == 1


def test_a_registration_challenge_works_once(app, auth):
    caller = auth.register()
    options = register_options(caller)
    assert_ok(register_verify(caller, Authenticator().create(options)), 201)
    replay = Authenticator().create(options)
    assert_error(register_verify(caller, replay), 400, "passkey_challenge_invalid")
    assert stored_passkeys(app) == 1


def test_another_users_or_sessions_challenge_is_refused(app, auth):
    caller = auth.register()
    options = register_options(caller)
    other = auth.register()
    stolen = Authenticator().create(options)
    assert_error(register_verify(other, stolen), 400, "passkey_challenge_invalid")
    # The same user in another session.
    second_session = auth.login(caller.extra["email"])
    assert_error(
        register_verify(second_session, Authenticator().create(options)),
        400,
        "passkey_challenge_invalid",
    )
    assert stored_passkeys(app) == 0
    # Still good for the session that asked.
    assert_ok(register_verify(caller, Authenticator().create(options)), 201)


def test_an_old_challenge_is_refused(auth, move_clock):
    caller = auth.register()
    options = register_options(caller)
    move_clock(seconds=301)
    assert_error(
        register_verify(caller, Authenticator().create(options)),
        400,
        "passkey_challenge_invalid",
    )


@pytest.mark.parametrize(
    "answer",
    [
        {"origin": "https://evil.example"},
        {"origin": "http://localhost:3001"},
        {"rp_id": "evil.example"},
        {"verified": False},
    ],
    ids=["other-origin", "other-port", "other-rp-id", "no-user-verification"],
)
def test_registration_for_another_origin_or_rp_id_is_refused(app, auth, answer):
    caller = auth.register()
    credential = Authenticator().create(register_options(caller), **answer)
    assert_error(register_verify(caller, credential), 400, "passkey_invalid")
    assert stored_passkeys(app) == 0


def tamper_client_data(credential, **changes):
    import base64
    import json

    from tests.auth.authenticator import unb64url

    data = json.loads(unb64url(credential["response"]["clientDataJSON"]))
    data.update(changes)
    encoded = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=")
    credential["response"]["clientDataJSON"] = encoded.decode()
    return credential


def test_tampered_registration_client_data_is_refused(app, auth):
    caller = auth.register()
    credential = Authenticator().create(register_options(caller))
    tamper_client_data(credential, type="webauthn.get")
    assert_error(register_verify(caller, credential), 400, "passkey_invalid")
    assert stored_passkeys(app) == 0


def test_registration_needs_a_recent_second_factor_when_mfa_is_on(auth, move_clock):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    assert_error(
        caller.client.post(PASSKEY_REGISTER_OPTIONS, headers=caller.headers),
        403,
        "mfa_required",
    )
    stepped = assert_ok(
        caller.client.post(
            MFA_STEP_UP, json={"code": code_at(secret)}, headers=caller.headers
        )
    )
    caller.access_token = stepped["accessToken"]
    add_passkey(caller)
    assert len(listed(caller)) == 1


# Malformed input


CREDENTIAL_DAMAGE = {
    "not-an-object": lambda c: "a string",
    "empty": lambda c: {},
    "no-response": lambda c: {k: v for k, v in c.items() if k != "response"},
    "id-a-number": lambda c: {**c, "id": 5, "rawId": 5},
    "raw-id-not-base64": lambda c: {**c, "rawId": "!!!"},
    "id-mismatch": lambda c: {**c, "id": b64url(b"other")},
    "type-wrong": lambda c: {**c, "type": "password"},
    "response-a-list": lambda c: {**c, "response": ["x"]},
    "client-data-garbage": lambda c: {
        **c,
        "response": {**c["response"], "clientDataJSON": b64url(b"\xff\xfe{")},
    },
    "client-data-a-list": lambda c: {
        **c,
        "response": {**c["response"], "clientDataJSON": b64url(b"[1, 2]")},
    },
    "challenge-a-number": lambda c: {
        **c,
        "response": {
            **c["response"],
            "clientDataJSON": b64url(
                b'{"type":"webauthn.create","challenge":5,"origin":"x"}'
            ),
        },
    },
}
REGISTRATION_DAMAGE = {
    **CREDENTIAL_DAMAGE,
    "attestation-garbage": lambda c: {
        **c,
        "response": {**c["response"], "attestationObject": b64url(b"\x00" * 40)},
    },
    "attestation-truncated": lambda c: {
        **c,
        "response": {
            **c["response"],
            "attestationObject": c["response"]["attestationObject"][:60],
        },
    },
}
CREDENTIAL_DAMAGE.update(
    {
        "odd-unicode": lambda c: {**c, "id": "\u202e\ud7ff\U0001f600", "rawId": "é"},
        "long-id": lambda c: {**c, "id": "A" * 20_000, "rawId": "A" * 20_000},
    }
)
REGISTRATION_DAMAGE.update(CREDENTIAL_DAMAGE)
SIGN_IN_DAMAGE = {
    **CREDENTIAL_DAMAGE,
    "authenticator-data-garbage": lambda c: {
        **c,
        "response": {**c["response"], "authenticatorData": b64url(b"\x01" * 10)},
    },
    "signature-garbage": lambda c: {
        **c,
        "response": {**c["response"], "signature": b64url(b"\x30\x02")},
    },
    "user-handle-a-number": lambda c: {
        **c,
        "response": {**c["response"], "userHandle": 7},
    },
}


@pytest.mark.parametrize(
    "damage", REGISTRATION_DAMAGE.values(), ids=REGISTRATION_DAMAGE
)
def test_malformed_registration_credentials_are_4xx_and_store_nothing(
    app, auth, damage
):
    caller = auth.register()
    credential = Authenticator().create(register_options(caller))
    response = register_verify(caller, damage(copy.deepcopy(credential)))
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["code"] in {
        "passkey_invalid",
        "passkey_challenge_invalid",
        "validation_error",
    }
    assert stored_passkeys(app) == 0


@pytest.mark.parametrize("damage", SIGN_IN_DAMAGE.values(), ids=SIGN_IN_DAMAGE)
def test_malformed_sign_in_credentials_are_4xx(app, auth, damage):
    caller = auth.register()
    authenticator, _ = add_passkey(caller)
    client = app.test_client()
    credential = authenticator.get(login_options(client))
    response = login_verify(client, damage(copy.deepcopy(credential)))
    assert response.status_code in {400, 401}, response.get_json()
    assert response.get_json()["code"] in {
        "passkey_invalid",
        "passkey_challenge_invalid",
        "passkey_unknown",
        "validation_error",
    }


def test_a_huge_credential_is_413(auth):
    caller = auth.register()
    credential = Authenticator().create(register_options(caller))
    credential["response"]["attestationObject"] = "A" * 100_000
    assert_error(register_verify(caller, credential), 413, "payload_too_large")


def test_a_missing_name_or_wrong_types_are_validation_errors(auth):
    caller = auth.register()
    credential = Authenticator().create(register_options(caller))
    for body in (
        {"credential": credential},
        {"credential": credential, "name": ""},
        {"credential": credential, "name": "x" * 65},
        {"credential": credential, "name": "a\x00b"},
        {"credential": [credential], "name": "x"},
        {"credential": credential, "name": "x", "extra": 1},
    ):
        response = caller.client.post(
            f"{PASSKEYS}/register/verify", json=body, headers=caller.headers
        )
        assert_error(response, 400, "validation_error")
    assert listed(caller) == []


# Passwordless sign-in


def test_login_options_ask_nothing_and_reveal_nothing(client):
    first = login_options(client)
    second = assert_ok(client.post(PASSKEY_LOGIN_OPTIONS, json={}))
    assert set(first) == {
        "challenge",
        "timeout",
        "rpId",
        "allowCredentials",
        "userVerification",
    }
    assert first["allowCredentials"] == []
    assert first["rpId"] == "localhost"
    assert first["userVerification"] == "required"
    assert first["challenge"] != second["challenge"]
    # No email is taken, so none can be probed.
    response = client.post(PASSKEY_LOGIN_OPTIONS, json={"email": "ada@example.com"})
    assert_error(response, 400, "validation_error")


@pytest.mark.parametrize("mode", ["bearer", "cookie"])
def test_sign_in_answers_what_login_answers(app, auth, mode):
    caller = auth.register()
    authenticator, _ = add_passkey(caller)
    client = app.test_client()
    response = sign_in(client, authenticator, mode=mode)
    data = assert_ok(response)
    password_login = auth.login(caller.extra["email"], mode=mode)
    expected = password_login.client.post(
        LOGIN,
        json={"email": caller.extra["email"], "password": caller.extra["password"]},
        headers={"X-Auth-Mode": "bearer"} if mode == "bearer" else {},
    ).get_json()["data"]
    assert set(data) == set(expected)
    assert data["email"] == caller.extra["email"]
    claims = claims_of(data["accessToken"])
    assert claims["amr"] == ["hwk", "user"]
    assert claims["acr"] == "aal2"
    assert response.headers["Authorization"] == f"Bearer {data['accessToken']}"
    if mode == "cookie":
        assert set_cookie_headers(response, "refresh_token")
        assert cookie_value(client, "csrf_refresh_token")
        assert "refreshToken" not in data
    else:
        assert data["refreshToken"] and data["deviceToken"]
    me = client.get(ME, headers={"Authorization": f"Bearer {data['accessToken']}"})
    assert assert_ok(me)["user"]["id"] == caller.user["id"]
    [entry] = listed(caller)
    assert entry["lastUsedAt"] is not None
    assert "passkey_sign_in" in feed_types(caller)


def test_a_sign_in_challenge_works_once(app, auth):
    caller = auth.register()
    authenticator, _ = add_passkey(caller)
    client = app.test_client()
    options = login_options(client)
    assert_ok(login_verify(client, authenticator.get(options)))
    replay = authenticator.get(options)
    assert_error(login_verify(client, replay), 400, "passkey_challenge_invalid")


def test_a_registration_challenge_cannot_sign_in(app, auth):
    caller = auth.register()
    authenticator, _ = add_passkey(caller)
    options = register_options(caller)
    credential = authenticator.get(options)
    assert_error(
        login_verify(app.test_client(), credential), 400, "passkey_challenge_invalid"
    )


@pytest.mark.parametrize(
    "answer",
    [
        {"origin": "https://evil.example"},
        {"rp_id": "evil.example"},
        {"verified": False},
        {"kind": "webauthn.create"},
    ],
    ids=["other-origin", "other-rp-id", "no-user-verification", "wrong-type"],
)
def test_sign_in_for_another_origin_or_rp_id_is_refused(app, auth, answer):
    caller = auth.register()
    authenticator, _ = add_passkey(caller)
    response = sign_in(app.test_client(), authenticator, **answer)
    assert_error(response, 401, "passkey_invalid")


def test_a_tampered_signature_or_client_data_is_refused(app, auth):
    caller = auth.register()
    authenticator, _ = add_passkey(caller)
    client = app.test_client()
    credential = authenticator.get(login_options(client))
    signature = bytearray(
        __import__("base64").urlsafe_b64decode(
            credential["response"]["signature"] + "=="
        )
    )
    signature[-1] ^= 1
    forged = copy.deepcopy(credential)
    forged["response"]["signature"] = b64url(bytes(signature))
    assert_error(login_verify(client, forged), 401, "passkey_invalid")
    # Another key's signature over the same data.
    impostor = Authenticator(
        credential_id=authenticator.credential_id,
        user_handle=authenticator.user_handle,
        sign_count=authenticator.sign_count,
    )
    assert_error(sign_in(client, impostor), 401, "passkey_invalid")
    # Client data changed after signing (the challenge kept, the origin not).
    credential = authenticator.get(login_options(client))
    tamper_client_data(credential, crossOrigin=True, extra="x")
    assert_error(login_verify(client, credential), 401, "passkey_invalid")


def test_an_unknown_credential_is_401(app, auth):
    caller = auth.register()
    add_passkey(caller)
    stranger = Authenticator(user_handle=b"someone")
    assert_error(sign_in(app.test_client(), stranger), 401, "passkey_unknown")


def test_a_user_handle_of_another_account_is_refused(app, auth):
    caller = auth.register()
    authenticator, _ = add_passkey(caller)
    other = auth.register()
    authenticator.user_handle = __import__("uuid").UUID(other.user["id"]).bytes
    assert_error(sign_in(app.test_client(), authenticator), 401, "passkey_invalid")


def test_a_counter_going_backwards_is_refused_and_recorded(app, auth, caplog):
    caller = auth.register()
    authenticator, _ = add_passkey(caller)
    copy_of_it = authenticator.clone()
    client = app.test_client()
    assert_ok(sign_in(client, authenticator))
    assert_ok(sign_in(client, authenticator))
    # The copy signs with a counter the server has seen already.
    assert_error(sign_in(client, copy_of_it), 401, "passkey_cloned")
    assert "passkey_clone_detected" in feed_types(caller)
    with app.app_context():
        [stored] = db.session.scalars(select(Passkey)).all()
        assert stored.sign_count == 2
    # The genuine one still counts up and signs in.
    assert_ok(sign_in(client, authenticator))


def test_authenticators_without_a_counter_sign_in_again_and_again(app, auth):
    caller = auth.register()
    authenticator, _ = add_passkey(caller, Authenticator(counts=False))
    client = app.test_client()
    for _ in range(3):
        assert_ok(sign_in(client, authenticator))


def test_a_disabled_account_cannot_sign_in_with_its_passkey(app, auth):
    caller = auth.register()
    authenticator, _ = add_passkey(caller)
    with app.app_context():
        user = db.session.get(User, __import__("uuid").UUID(caller.user["id"]))
        user.is_active = False
        db.session.commit()
    assert_error(sign_in(app.test_client(), authenticator), 403, "account_disabled")


def test_parallel_sign_ins_with_one_answer_exactly_one_succeeds(app, auth):
    caller = auth.register()
    authenticator, _ = add_passkey(caller)
    credential = authenticator.get(login_options(app.test_client()))
    statuses = []
    barrier = threading.Barrier(4)

    def attempt():
        client = app.test_client()
        barrier.wait()
        statuses.append(login_verify(client, credential).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 400, 400, 400]


# Manage


def test_delete_removes_it_mails_and_it_signs_in_no_more(app, auth, mailbox):
    caller = auth.register()
    authenticator, data = add_passkey(caller)
    mailbox.wait_for(1)
    mailbox.clear()
    other = auth.register()
    assert_error(
        other.client.delete(passkey(data["id"]), headers=other.headers),
        404,
        "passkey_not_found",
    )
    assert_error(
        caller.client.delete(passkey("not-a-uuid"), headers=caller.headers),
        404,
        "passkey_not_found",
    )
    assert_ok(caller.client.delete(passkey(data["id"]), headers=caller.headers))
    assert listed(caller) == []
    [notice] = mailbox.wait_for(1)
    assert notice.subject == "A passkey was removed from your account"
    assert_error(sign_in(app.test_client(), authenticator), 401, "passkey_unknown")
    assert "passkey_removed" in feed_types(caller)


def test_deleting_the_account_deletes_its_passkeys_and_challenges(app, auth):
    caller = auth.register()
    add_passkey(caller)
    register_options(caller)
    with app.app_context():
        user = db.session.get(User, __import__("uuid").UUID(caller.user["id"]))
        db.session.delete(user)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Passkey)) == 0
        remaining = db.session.scalars(select(PasskeyChallenge.user_id)).all()
        assert remaining == []


def test_the_admin_user_detail_counts_passkeys(auth, promote):
    admin = promote(auth.register())
    caller = auth.register()
    add_passkey(caller)
    add_passkey(caller, name="Phone")
    data = assert_ok(
        admin.client.get(admin_user(caller.user["id"]), headers=admin.headers)
    )["user"]
    assert data["secondFactors"] == {"mfaEnabled": False, "passkeys": 2}


# As the second factor


def mfa_caller_with_passkey(auth, move_clock):
    caller = auth.register()
    secret, _ = enrol(caller, move_clock)
    stepped = assert_ok(
        caller.client.post(
            MFA_STEP_UP, json={"code": code_at(secret)}, headers=caller.headers
        )
    )
    caller.access_token = stepped["accessToken"]
    authenticator, _ = add_passkey(caller)
    return caller, authenticator


def passkey_options_for(client, mfa_token):
    return client.post(
        MFA_PASSKEY_OPTIONS,
        json={"mfaToken": mfa_token},
        headers={"X-Auth-Mode": "bearer"},
    )


def test_the_second_factor_can_be_a_passkey(auth, move_clock):
    caller, authenticator = mfa_caller_with_passkey(auth, move_clock)
    client = auth.app.test_client()
    data, _ = password_step(client, caller.extra["email"])
    assert data["methods"] == ["totp", "recovery_code", "webauthn"]
    options = assert_ok(passkey_options_for(client, data["mfaToken"]))
    assert [item["id"] for item in options["allowCredentials"]] == [
        b64url(authenticator.credential_id)
    ]
    credential = authenticator.get(options)
    tokens = assert_ok(verify(client, data["mfaToken"], credential=credential))
    claims = claims_of(tokens["accessToken"])
    assert claims["amr"] == ["pwd", "hwk"] and claims["acr"] == "aal2"
    # The mfaToken and the passkey challenge are spent.
    assert_error(
        verify(client, data["mfaToken"], credential=authenticator.get(options)),
        401,
        "token_invalid",
    )


def test_accounts_without_passkeys_keep_their_methods(auth, move_clock):
    caller = auth.register()
    enrol(caller, move_clock)
    data, _ = password_step(caller.client, caller.extra["email"])
    assert data["methods"] == ["totp", "recovery_code"]
    assert_error(
        passkey_options_for(caller.client, data["mfaToken"]),
        409,
        "passkey_not_registered",
    )


def test_a_second_factor_passkey_must_answer_this_logins_challenge(auth, move_clock):
    caller, authenticator = mfa_caller_with_passkey(auth, move_clock)
    client = auth.app.test_client()
    first, _ = password_step(client, caller.extra["email"])
    second, _ = password_step(client, caller.extra["email"])
    options = assert_ok(passkey_options_for(client, first["mfaToken"]))
    # Another login's mfaToken, a passwordless challenge, or another account's key.
    for mfa_token, credential in (
        (second["mfaToken"], authenticator.get(options)),
        (first["mfaToken"], authenticator.get(login_options(client))),
        (first["mfaToken"], Authenticator().get(options)),
    ):
        assert_error(
            verify(client, mfa_token, credential=credential), 401, "invalid_mfa_code"
        )
    assert "mfa_failed" in feed_types(caller)


def test_a_cloned_second_factor_is_refused_and_recorded(auth, move_clock):
    caller, authenticator = mfa_caller_with_passkey(auth, move_clock)
    copy_of_it = authenticator.clone()
    client = auth.app.test_client()
    data, _ = password_step(client, caller.extra["email"])
    options = assert_ok(passkey_options_for(client, data["mfaToken"]))
    assert_ok(verify(client, data["mfaToken"], credential=authenticator.get(options)))
    data, _ = password_step(client, caller.extra["email"])
    options = assert_ok(passkey_options_for(client, data["mfaToken"]))
    assert_error(
        verify(client, data["mfaToken"], credential=copy_of_it.get(options)),
        401,
        "passkey_cloned",
    )
    assert "passkey_clone_detected" in feed_types(caller)


def test_passwordless_sign_in_skips_the_totp_step(auth, move_clock):
    caller, authenticator = mfa_caller_with_passkey(auth, move_clock)
    data = assert_ok(sign_in(auth.app.test_client(), authenticator))
    assert "accessToken" in data and "mfaRequired" not in data


def test_mfa_verify_takes_exactly_one_factor(auth, move_clock):
    caller, authenticator = mfa_caller_with_passkey(auth, move_clock)
    data, _ = password_step(caller.client, caller.extra["email"])
    response = verify(
        caller.client, data["mfaToken"], code="123456", credential={"id": "x"}
    )
    assert_error(response, 400, "validation_error")
