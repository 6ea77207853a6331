"""Roles: promote/demote from the CLI, the role claim, sessions ended on change."""

import jwt
import pytest

from app import events
from tests.audit.support import audit_rows
from tests.helpers import assert_error, assert_ok
from tests.urls import ADMIN_USERS, ME, REFRESH


def claims_of(token):
    return jwt.decode(token, options={"verify_signature": False})


def test_access_tokens_carry_the_role(auth, admin):
    user = auth.register()
    assert claims_of(user.access_token)["role"] == "user"
    assert claims_of(admin.access_token)["role"] == "admin"
    refreshed = assert_ok(admin.client.post(REFRESH, headers=admin.refresh_headers))
    assert claims_of(refreshed["accessToken"])["role"] == "admin"


def test_promotion_ends_every_session_and_is_audited(app, auth, runner):
    caller = auth.register()
    result = runner.invoke(args=["users", "promote", caller.extra["email"]])
    assert result.exit_code == 0, result.output
    assert "is now admin; 1 session(s) ended" in result.output
    # No token keeps the old role: the access and refresh tokens are both dead.
    assert_error(caller.client.get(ME, headers=caller.headers), 401, "token_revoked")
    refresh = caller.client.post(REFRESH, headers=caller.refresh_headers)
    assert_error(refresh, 401, "token_revoked")
    [row] = audit_rows(app, type=events.ROLE_CHANGED)
    assert row.actor_type == "system"
    assert row.details == {"previous": "user", "role": "admin", "sessions_revoked": 1}
    again = runner.invoke(args=["users", "promote", caller.extra["email"]])
    assert "is admin already" in again.output


def test_demotion_ends_sessions_and_takes_the_admin_api_away(auth, admin, runner):
    second = auth.register()
    runner.invoke(args=["users", "promote", second.extra["email"]])
    result = runner.invoke(args=["users", "demote", admin.extra["email"]])
    assert result.exit_code == 0, result.output
    assert_error(admin.client.get(ME, headers=admin.headers), 401, "token_revoked")
    demoted = auth.login(admin.extra["email"])
    response = demoted.client.get(ADMIN_USERS, headers=demoted.headers)
    assert_error(response, 403, "forbidden")


def test_the_last_admin_cannot_be_demoted(admin, runner):
    result = runner.invoke(args=["users", "demote", admin.extra["email"]])
    assert result.exit_code == 1
    assert "last active admin" in result.output
    assert_ok(admin.client.get(ADMIN_USERS, headers=admin.headers))


def test_unknown_email_is_a_clear_cli_error(runner):
    result = runner.invoke(args=["users", "promote", "nobody@example.com"])
    assert result.exit_code == 1
    assert "No account with this email." in result.output


def test_user_tokens_are_forbidden_on_admin_endpoints(auth):
    caller = auth.register()
    response = caller.client.get(ADMIN_USERS, headers=caller.headers)
    assert_error(response, 403, "forbidden")
    assert_error(caller.client.get(ADMIN_USERS), 401, "token_missing")


@pytest.mark.config(ADMIN_REQUIRE_MFA=True)
def test_admin_require_mfa_refuses_admins_without_a_second_factor(admin):
    response = admin.client.get(ADMIN_USERS, headers=admin.headers)
    assert_error(response, 403, "mfa_required")


def test_production_requires_mfa_by_default(monkeypatch):
    from config import load_config

    monkeypatch.delenv("ADMIN_REQUIRE_MFA", raising=False)
    assert load_config({"APP_ENV": "production"})["ADMIN_REQUIRE_MFA"] is True
    assert load_config({"APP_ENV": "testing"})["ADMIN_REQUIRE_MFA"] is False


@pytest.mark.parametrize(
    ("amr", "passed"),
    [(None, False), (["pwd"], False), (["pwd", "otp"], True), (["hwk"], True)],
)
def test_second_factor_is_read_from_the_amr_claim(amr, passed):
    from app.admin.access import session_passed_mfa

    claims = {} if amr is None else {"amr": amr}
    assert session_passed_mfa(claims) is passed
