"""app/ratelimit.py's LIMITS is the one source of rate limits, and each is enforced.

`app` makes the tables; `make_app` builds the app under test on the same database.
"""

import pytest

from app.ratelimit import (
    LIMITS,
    PER_ACCOUNT,
    PER_DEVICE,
    limited_endpoints,
    limits_for,
)
from tests.auth.mfa import code_at, wrong_code
from tests.conftest import PASSWORD, AuthActions
from tests.helpers import assert_ok

pytestmark = pytest.mark.ratelimit

MANY = "1000 per minute"
WRONG = "a wrong pass phrase 42"
NEW_PASSWORD = "a brand new passphrase 42"
# The refused request of each endpoint of a signed-in caller (None: no body).
SIGNED_IN_BODIES = {
    "auth.change_password": {"oldPassword": WRONG, "newPassword": NEW_PASSWORD},
    "auth.request_email_verification": None,
    "users.change_email": {"newEmail": "elsewhere@example.com", "password": WRONG},
    "users.delete_me": {"password": WRONG},
}


def url_of(app, endpoint):
    (rule,) = [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]
    return rule.rule


class Attempts:
    """Requests that one table entry counts, on the entry's endpoint.

    `send(number)` is counted in one bucket (one IP with a new account each time, or
    one account or device from new IPs); `send(number, fresh=True)` is the same kind
    of request in another bucket of that entry.
    """

    def __init__(self, app, limit):
        self.app = app
        self.limit = limit
        self.client = app.test_client()
        self.url = url_of(app, limit.endpoint)
        self.auth = AuthActions(app)
        self.callers = {}

    def caller(self, name):
        if name not in self.callers:
            self.callers[name] = self.auth.register(mode="bearer")
        return self.callers[name]

    def mfa_caller(self, name, *, enabled):
        """(caller, secret): MFA on, or only a pending setup (for confirm)."""
        key = (name, enabled)
        if key not in self.callers:
            caller = self.auth.register(mode="bearer")
            client, headers = caller.client, caller.headers
            secret = assert_ok(
                client.post(
                    "/api/v1/auth/mfa/totp/setup",
                    json={"password": PASSWORD},
                    headers=headers,
                )
            )["secret"]
            if enabled:
                assert_ok(
                    client.post(
                        "/api/v1/auth/mfa/totp/confirm",
                        json={"code": code_at(secret)},
                        headers=headers,
                    )
                )
            self.callers[key] = caller, secret
        return self.callers[key]

    def send_mfa(self, account, environ):
        """A wrong second factor (or, where the entry counts those, password)."""
        endpoint = self.limit.endpoint
        if endpoint == "auth.mfa_totp_setup":
            caller = self.caller(account)
            body = {"password": WRONG}
            return self.client.post(
                self.url, json=body, headers=caller.headers, environ_base=environ
            )
        enabled = endpoint != "auth.mfa_totp_confirm"
        caller, secret = self.mfa_caller(account, enabled=enabled)
        body = {"code": wrong_code(secret)}
        if endpoint == "auth.mfa_verify":
            login = self.client.post(
                "/api/v1/auth/login",
                json={"email": caller.extra["email"], "password": PASSWORD},
                headers={"X-Auth-Mode": "bearer"},
                environ_base=environ,
            )
            body["mfaToken"] = assert_ok(login)["mfaToken"]
            return self.client.post(
                self.url,
                json=body,
                headers={"X-Auth-Mode": "bearer"},
                environ_base=environ,
            )
        if endpoint == "auth.mfa_totp_disable":
            wrong_password = self.limit.setting == "RATELIMIT_LOGIN_ACCOUNT"
            body["password"] = WRONG if wrong_password else PASSWORD
            return self.client.delete(
                self.url, json=body, headers=caller.headers, environ_base=environ
            )
        return self.client.post(
            self.url, json=body, headers=caller.headers, environ_base=environ
        )

    def bucket(self, number, fresh):
        """(account name, client IP) of attempt `number`."""
        if self.limit.key in (PER_ACCOUNT, PER_DEVICE):
            return ("other" if fresh else "table"), f"198.51.100.{number}"
        return f"user{number}", "192.0.2.99" if fresh else "192.0.2.1"

    def send(self, number, *, fresh=False):
        account, ip = self.bucket(number, fresh)
        environ = {"REMOTE_ADDR": ip}
        endpoint = self.limit.endpoint
        device_token = None
        if endpoint.startswith("auth.mfa_"):
            return self.send_mfa(account, environ)
        if endpoint == "revocations.revocations":
            return self.client.get(self.url, environ_base=environ)
        if endpoint == "auth.introspect_token":
            # Without a service credential the client IP is counted.
            return self.client.post(self.url, data={"token": "x"}, environ_base=environ)
        if endpoint == "oauth.authorize":
            # No provider configured: a 404, counted all the same.
            url = self.url.replace("<provider>", "none")
            return self.client.get(url, environ_base=environ)
        if self.limit.key == PER_DEVICE:
            # One account; fresh: without its device token (counted per account).
            account, device_token = "table", None if fresh else "yes"
        if endpoint in SIGNED_IN_BODIES:
            caller = self.caller(account)
            body = SIGNED_IN_BODIES[endpoint]
            if body is not None and device_token:
                body = {**body, "deviceToken": caller.device_token}
            send = (
                self.client.delete
                if endpoint == "users.delete_me"
                else self.client.post
            )
            return send(
                self.url, json=body, headers=caller.headers, environ_base=environ
            )
        if device_token:
            caller = self.caller(account)
            body = {"email": caller.extra["email"], "password": WRONG}
            body["deviceToken"] = caller.device_token
        elif endpoint == "auth.login":
            body = {"email": f"{account}@example.com", "password": WRONG}
        elif endpoint in (
            "auth.request_password_reset",
            "auth.resend_email_verification",
        ):
            body = {"email": f"{account}@example.com"}
        else:
            body = {"name": "Ada", "email": f"{account}@example.com", "password": WRONG}
        return self.client.post(self.url, json=body, environ_base=environ)


@pytest.mark.parametrize("limit", LIMITS, ids=[limit.setting for limit in LIMITS])
def test_every_table_entry_is_enforced_on_its_endpoint(app, make_app, limit):
    others = {entry.setting: MANY for entry in LIMITS}
    limited = make_app(
        RATELIMIT_ENABLED=True, **{**others, limit.setting: "2 per minute"}
    )
    attempts = Attempts(limited, limit)
    for number in range(2):
        response = attempts.send(number)
        assert response.status_code != 429, response.get_json()
    refused = attempts.send(2)
    assert refused.status_code == 429, refused.get_json()
    assert refused.get_json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-RateLimit-Limit"] == "2"
    fresh = attempts.send(3, fresh=True)
    assert fresh.status_code != 429, fresh.get_json()


def test_entries_that_share_a_counter_share_a_setting():
    # flask-limiter keys a counter by its rate as well: one counter needs one rate.
    settings = {}
    for limit in LIMITS:
        if limit.shared:
            assert settings.setdefault(limit.shared, limit.setting) == limit.setting


def test_only_the_table_endpoints_are_limited(app, make_app):
    # A distinct rate per setting: the headers tell which entry answered.
    names = dict.fromkeys(limit.setting for limit in LIMITS)
    rates = {setting: f"{100 + n} per minute" for n, setting in enumerate(names)}
    limited = make_app(RATELIMIT_ENABLED=True, **rates)
    client = limited.test_client()
    auth = AuthActions(limited)
    seen = set()
    for rule in limited.url_map.iter_rules():
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", "x").replace(
                f"<string:{argument}>", "x"
            )
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            # A caller of its own each time: limits of endpoints that take an access
            # token count callers, and some calls (logout-all) end the session.
            headers = auth.register().headers
            response = client.open(path, method=method, json={}, headers=headers)
            header = response.headers.get("X-RateLimit-Limit")
            table_rates = {
                rates[limit.setting].split()[0] for limit in limits_for(rule.endpoint)
            }
            if table_rates:
                assert header in table_rates, (method, path, header)
                seen.add(rule.endpoint)
            else:
                assert header is None, (method, path, header)
    assert seen == set(limited_endpoints())
