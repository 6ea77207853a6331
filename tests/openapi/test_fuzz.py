"""Schemathesis holds the server to its own OpenAPI document (WSGI app, in process).

Every operation runs through the examples, coverage and fuzzing phases, with valid
and invalid inputs, a fixed seed and a fixed budget. Then the stateful chain
register -> login -> refresh -> logout follows the document's OpenAPI links.
"""

import collections
import os
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import Config
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.auth import passwords, sessions
from app.auth.tokens import issue_tokens
from app.extensions import db
from app.models import User
from app.models.session import TRANSPORT_BEARER

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"
SEED = 20250115
# The budget per operation and generation mode; raise it for a longer local run.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
# Hypothesis also draws string constants from the project's own modules, so any
# new literal in app/ or tests/ changes the (derandomized) scenarios: 100 leaves a
# margin for the chain to reach logout (40 did not, once the code changed).
CHAIN_SCENARIOS = 100
CHAIN_STEPS = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    missing_required_header,
    unsupported_method,
    ignored_auth,
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
    }
)
DOCUMENT = "/api/v1/openapi.json"
CHAIN = ["register", "login", "refreshToken", "logout"]


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

schema = schemathesis.openapi.from_wsgi(DOCUMENT, APP, config=CONFIG)


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


@schema.parametrize()
def test_every_operation_conforms_to_the_document(case):
    case.call_and_validate(checks=CHECKS)


# The chain uses only what the links carry from one answer to the next call.
CHAIN_CONFIG = Config.from_dict({"seed": SEED, "generation": {"database": "none"}})
chain_schema = schemathesis.openapi.from_wsgi(
    DOCUMENT, APP, config=CHAIN_CONFIG
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
        case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)


def test_register_login_refresh_logout_chain():
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
    # Refresh and logout can only succeed with a token a link carried over.
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
