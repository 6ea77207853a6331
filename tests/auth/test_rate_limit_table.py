"""app/ratelimit.py's LIMITS is the one source of rate limits, and each is enforced.

`app` makes the tables; `make_app` builds the app under test on the same database.
"""

import pytest

from app.ratelimit import LIMITS, PER_ACCOUNT, limited_endpoints, limits_for

pytestmark = pytest.mark.ratelimit

MANY = "1000 per minute"


def url_of(app, endpoint):
    (rule,) = [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]
    return rule.rule


@pytest.mark.parametrize("limit", LIMITS, ids=[limit.setting for limit in LIMITS])
def test_every_table_entry_is_enforced_on_its_endpoint(app, make_app, limit):
    others = {entry.setting: MANY for entry in LIMITS}
    limited = make_app(
        RATELIMIT_ENABLED=True, **{**others, limit.setting: "2 per minute"}
    )
    client = limited.test_client()
    url = url_of(limited, limit.endpoint)

    def send(number, *, fresh=False):
        # Per IP: one IP, a new email each time; per account: one email, new IPs.
        if limit.key == PER_ACCOUNT:
            email = "other@example.com" if fresh else "table@example.com"
            ip = f"198.51.100.{number}"
        else:
            email = f"user{number}@example.com"
            ip = "192.0.2.99" if fresh else "192.0.2.1"
        body = {"name": "Ada", "email": email, "password": "a long pass phrase 42"}
        return client.post(url, json=body, environ_base={"REMOTE_ADDR": ip})

    for number in range(2):
        assert send(number).status_code != 429
    refused = send(2)
    assert refused.status_code == 429, refused.get_json()
    assert refused.get_json()["code"] == "rate_limited"
    assert refused.headers["X-RateLimit-Limit"] == "2"
    assert send(3, fresh=True).status_code != 429


def test_only_the_table_endpoints_are_limited(app, make_app):
    # A distinct rate per entry: the headers tell which entry answered.
    rates = {limit.setting: f"{100 + n} per minute" for n, limit in enumerate(LIMITS)}
    limited = make_app(RATELIMIT_ENABLED=True, **rates)
    client = limited.test_client()
    seen = set()
    for rule in limited.url_map.iter_rules():
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", "x").replace(
                f"<string:{argument}>", "x"
            )
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, json={})
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
