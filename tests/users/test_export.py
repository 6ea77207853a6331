"""GET /users/me/export: the caller's data, and never a secret."""

import json

from sqlalchemy import select

from app.extensions import db
from app.models import OneTimeToken, TotpCredential, User, UserSession
from tests.auth.mfa import code_at, enrol
from tests.helpers import assert_error, assert_ok
from tests.urls import ME_EXPORT, MFA_STEP_UP


def test_export_holds_profile_sessions_events_and_mfa_status(app, auth, move_clock):
    caller = auth.register(name="Grace Export")
    auth.login(caller.extra["email"])
    data = assert_ok(caller.client.get(ME_EXPORT, headers=caller.headers))
    assert set(data) == {
        "exportedAt",
        "profile",
        "mfa",
        "sessions",
        "passkeys",
        "securityEvents",
    }
    assert data["profile"]["email"] == caller.extra["email"]
    assert data["profile"]["name"] == "Grace Export"
    assert data["profile"]["role"] == "user"
    assert data["mfa"] == {"enabled": False, "enabledAt": None, "recoveryCodesLeft": 0}
    assert len(data["sessions"]) == 2
    assert {"id", "createdAt", "ip", "userAgent", "revokedAt"} <= set(
        data["sessions"][0]
    )
    types = [event["type"] for event in data["securityEvents"]]
    assert types[-1] == "registered" and "login_ok" in types
    assert data["passkeys"] == []


def test_export_needs_a_step_up_with_mfa_and_shows_no_secret(app, auth, move_clock):
    caller = auth.register()
    secret, codes = enrol(caller, move_clock)
    move_clock(seconds=app.config["MFA_STEP_UP_TTL"] + 1)
    assert_error(
        caller.client.get(ME_EXPORT, headers=caller.headers), 403, "mfa_required"
    )
    stepped = assert_ok(
        caller.client.post(
            MFA_STEP_UP, json={"code": code_at(secret)}, headers=caller.headers
        )
    )
    caller.access_token = stepped["accessToken"]
    data = assert_ok(caller.client.get(ME_EXPORT, headers=caller.headers))
    assert data["mfa"]["enabled"] is True and data["mfa"]["recoveryCodesLeft"] == 10
    text = json.dumps(data)
    with app.app_context():
        user = db.session.scalar(
            select(User).where(User.email == caller.extra["email"])
        )
        stored = [user.password_hash]
        stored += db.session.scalars(
            select(UserSession.refresh_jti).where(UserSession.user_id == user.id)
        ).all()
        stored += db.session.scalars(select(OneTimeToken.token_hash)).all()
        credential = db.session.get(TotpCredential, user.id)
        db.session.remove()
    for value in [*stored, secret, *codes, caller.access_token, caller.refresh_token]:
        if value:
            assert value not in text
    assert credential.secret_ciphertext.hex() not in text
    assert "passwordHash" not in text and "secret" not in text.lower()


def test_export_of_a_deactivated_account_is_403(app, auth):
    caller = auth.register()
    result = app.test_cli_runner().invoke(
        args=["users", "deactivate", caller.extra["email"]]
    )
    assert result.exit_code == 0
    answer = caller.client.get(ME_EXPORT, headers=caller.headers)
    assert_error(answer, 403, "account_disabled")


def test_export_without_or_with_a_bad_token_is_401(app, client):
    assert_error(client.get(ME_EXPORT), 401, "token_missing")
    bad = client.get(ME_EXPORT, headers={"Authorization": "Bearer x.y.z"})
    assert_error(bad, 401, "token_invalid")
