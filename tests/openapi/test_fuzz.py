"""Schemathesis holds the server to its own OpenAPI document (WSGI app, in process).

Every operation runs through the examples, coverage and fuzzing phases, with valid
and invalid inputs, a fixed seed and a fixed budget, under every check schemathesis
has (positive data acceptance included). Then the stateful chain register -> login
follows the document's OpenAPI link.
"""

import collections
import os
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import Config
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.checks import load_all_checks
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.auth import passwords, sessions
from app.auth.tokens import issue_tokens
from app.extensions import db
from app.models import User
from app.models.session import TRANSPORT_BEARER
from tests.urls import OPENAPI

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"
SEED = 20250115
# The budget per operation and generation mode; raise it for a longer local run.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
# Hypothesis also draws string constants from the project's own modules, so any
# new literal in app/ or tests/ changes the (derandomized) scenarios: leave a margin.
CHAIN_SCENARIOS = 40
CHAIN_STEPS = 8
load_all_checks()
# Every check schemathesis has, positive data acceptance included.
CHECKS = REGISTERED_CHECKS.get_all()
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
# What the server refuses in schema-valid bodies for reasons no schema can state:
# operation id -> field -> the refusals (400 validation_error details) it may give.
POLICY = {
    "This password is too common.",
    "The password must not be the same as the email.",
}
UNSAYABLE = {
    "register": {"password": POLICY},
    "confirmPasswordReset": {"newPassword": POLICY},
    "changePassword": {"newPassword": POLICY},
    "mfaTotpSetup": {},
    "mfaTotpConfirm": {},
    "mfaTotpDisable": {},
    "mfaStepUp": {},
    "mfaRecoveryCodes": {},
    "passkeyRegisterVerify": {},
    "changeEmail": {"newEmail": {"This is the account's email address already."}},
    "deleteMe": {},
}
# These check a password or a code against the account: 400 invalid_credentials or
# invalid_mfa_code (API.md), which no schema can foresee either.
WRONG_SECRET = {
    "changePassword": {"invalid_credentials"},
    "mfaTotpSetup": {"invalid_credentials"},
    "mfaTotpConfirm": {"invalid_mfa_code"},
    "mfaTotpDisable": {"invalid_credentials", "invalid_mfa_code"},
    "mfaStepUp": {"invalid_mfa_code"},
    "mfaRecoveryCodes": {"invalid_mfa_code"},
    # A passkey's answer is checked against a challenge the server handed out.
    "passkeyRegisterVerify": {"passkey_invalid", "passkey_challenge_invalid"},
    "changeEmail": {"invalid_credentials"},
    "deleteMe": {"invalid_credentials"},
}
# Cursors are signed: a string of the declared pattern that the server never issued
# is 400 invalid_cursor, which no schema can foresee.
SIGNED_CURSORS = {"listSecurityEvents", "adminListUsers", "adminListAuditEvents"}
# schemathesis's own per-operation setting: a 400 is an expected answer to valid
# data there; `unsayable_refusals_only` then narrows it to the refusals above.
EXPECTED_400 = [
    {
        "include-operation-id": sorted(UNSAYABLE.keys() | SIGNED_CURSORS),
        "checks": {
            "positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}
        },
    }
]
CONFIG = Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
        },
        "phases": {"stateful": {"enabled": False}},
        "operations": EXPECTED_400,
    }
)
# register -> login is the one link: the refresh token is in the body only for
# bearer sessions, so no link can carry it (refresh and logout run per operation
# above, with a bearer session of their own).
CHAIN = ["register", "login"]


def fuzz_database_url():
    """In-memory SQLite; with TEST_DATABASE_URL, a PostgreSQL schema of its own."""
    if not TEST_DATABASE_URL:
        return "sqlite://", None
    schema_name = f"fuzz_{uuid.uuid4().hex[:16]}"
    try:
        engine = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema_name}"'))
    except Exception as error:  # noqa: BLE001
        if IN_CI:
            raise
        pytest.skip(f"TEST_DATABASE_URL unreachable: {error}", allow_module_level=True)
    url = make_url(TEST_DATABASE_URL).update_query_dict(
        {"options": f"-csearch_path={schema_name}"}
    )
    return url.render_as_string(hide_password=False), (engine, schema_name)


# Schemathesis collects tests from a schema loaded at import time, so this module
# has an app of its own (rate limits off, the testing default).
DATABASE_URL, PG_SCHEMA = fuzz_database_url()
APP = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": DATABASE_URL})
with APP.app_context():
    db.create_all()
# Hashed once: the fuzzing accounts need a valid hash, not a bcrypt call each.
PASSWORD_HASH = passwords.hash_password("correct horse battery staple", 4)

schema = schemathesis.openapi.from_wsgi(OPENAPI, APP, config=CONFIG)


@schema.auth(refresh_interval=None)
class FreshSession:
    """A new account and bearer session per case: refresh rotates, logout ends."""

    def get(self, case, context):
        with context.app.app_context():
            user = User(
                name="Fuzz",
                email=f"fuzz-{uuid.uuid4().hex}@example.com",
                password_hash=PASSWORD_HASH,
            )
            db.session.add(user)
            db.session.flush()
            user_session = sessions.open_session(
                user=user, transport=TRANSPORT_BEARER, user_agent="fuzz", ip=None
            )
            db.session.commit()
            return issue_tokens(user_session)

    def set(self, case, data, context):
        requirements = case.operation.definition.raw.get("security") or []
        schemes = {name for requirement in requirements for name in requirement}
        if not schemes:
            return
        # Refresh and logout take the refresh token; the rest the access token.
        token = data.refresh_token if "refreshToken" in schemes else data.access_token
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


def unsayable_refusals_only(ctx, response, case):
    """A 400 to schema-valid data is only one of the refusals in UNSAYABLE."""
    operation_id = case.operation.definition.raw["operationId"]
    meta = case.meta
    if (
        operation_id not in UNSAYABLE.keys() | SIGNED_CURSORS
        or response.status_code != 400
        or meta is None
        or not meta.generation.mode.is_positive
    ):
        return None
    body = response.json()
    if body["code"] in WRONG_SECRET.get(operation_id, ()):
        return None
    if operation_id in SIGNED_CURSORS:
        assert body["code"] == "invalid_cursor", body
        return None
    allowed = UNSAYABLE[operation_id]
    details = body.get("details") or {}
    assert body["code"] == "validation_error" and details, body
    for field, messages in details.items():
        assert set(messages) <= allowed.get(field, set()), body
    return None


@schema.parametrize()
def test_every_operation_conforms_to_the_document(case):
    case.call_and_validate(checks=CHECKS, additional_checks=[unsayable_refusals_only])


# The chain uses only what the links carry from one answer to the next call.
CHAIN_CONFIG = Config.from_dict(
    {"seed": SEED, "generation": {"database": "none"}, "operations": EXPECTED_400}
)
chain_schema = schemathesis.openapi.from_wsgi(
    OPENAPI, APP, config=CHAIN_CONFIG
).include(operation_id=CHAIN)
SUCCESSES = collections.Counter()


class ChainMachine(chain_schema.as_state_machine()):
    def setup(self):
        # Each scenario starts from an empty database, so a replayed scenario meets
        # the same answers (Hypothesis needs that; a second register would be 409).
        with APP.app_context():
            db.drop_all()
            db.create_all()

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        if response.status_code < 300:
            SUCCESSES[case.operation.definition.raw["operationId"]] += 1
        case.validate_response(
            response,
            checks=CHECKS,
            additional_checks=[unsayable_refusals_only],
            transport_kwargs=kwargs,
        )


def test_register_login_chain():
    SUCCESSES.clear()
    ChainMachine.run(
        settings=settings(
            max_examples=CHAIN_SCENARIOS,
            stateful_step_count=CHAIN_STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
    # Login can only succeed with the credentials the link carried over.
    missing = [name for name in CHAIN if not SUCCESSES[name]]
    assert not missing, f"the chain never got through {missing}: {dict(SUCCESSES)}"


@pytest.fixture(autouse=True, scope="module")
def _drop_database():
    yield
    with APP.app_context():
        db.session.remove()
        db.engine.dispose()
    if PG_SCHEMA is not None:
        engine, schema_name = PG_SCHEMA
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema_name}" CASCADE'))
        engine.dispose()
