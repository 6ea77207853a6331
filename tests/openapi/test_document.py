"""The OpenAPI document: valid 3.1, generated from the routes, covering the contract."""

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator

from tests.helpers import USER_FIELDS
from tests.urls import (
    ADMIN_AUDIT_EVENTS,
    ADMIN_USERS,
    COMPROMISED,
    DOCS,
    EMAIL_CHANGE_CONFIRM,
    EMAIL_CHANGE_REVERT,
    EMAIL_VERIFY_CONFIRM,
    EMAIL_VERIFY_REQUEST,
    EMAIL_VERIFY_RESEND,
    HEALTH,
    IDENTITIES,
    INTROSPECT,
    JWKS,
    LOGIN,
    LOGOUT,
    LOGOUT_ALL,
    ME,
    ME_EMAIL,
    ME_EXPORT,
    METRICS,
    MFA_CONFIRM,
    MFA_PASSKEY_OPTIONS,
    MFA_RECOVERY_CODES,
    MFA_SETUP,
    MFA_STEP_UP,
    MFA_TOTP,
    MFA_VERIFY,
    OAUTH_PROVIDERS,
    OAUTH_TOKEN,
    OPENAPI,
    PASSKEY_LOGIN_OPTIONS,
    PASSKEY_LOGIN_VERIFY,
    PASSKEY_REGISTER_OPTIONS,
    PASSKEY_REGISTER_VERIFY,
    PASSKEYS,
    PASSWORD_CHANGE,
    PASSWORD_RESET,
    PASSWORD_RESET_CONFIRM,
    REFRESH,
    REGISTER,
    REVOCATIONS,
    SECURITY_EVENTS,
    SESSIONS,
)

# Plumbing routes that are not part of the API.
NOT_DOCUMENTED = {"openapi.docs_asset"}

# API.md's endpoint table, spelled out: the document must keep up with the contract.
CONTRACT_ENDPOINTS = [
    ("get", REVOCATIONS),
    ("post", INTROSPECT),
    ("post", REGISTER),
    ("post", LOGIN),
    ("post", REFRESH),
    ("post", LOGOUT),
    ("post", LOGOUT_ALL),
    ("get", SESSIONS),
    ("delete", "/api/v1/auth/sessions/{session_id}"),
    ("post", PASSWORD_RESET),
    ("post", PASSWORD_RESET_CONFIRM),
    ("post", PASSWORD_CHANGE),
    ("post", EMAIL_VERIFY_REQUEST),
    ("post", EMAIL_VERIFY_CONFIRM),
    ("post", MFA_SETUP),
    ("post", MFA_CONFIRM),
    ("delete", MFA_TOTP),
    ("post", MFA_VERIFY),
    ("post", MFA_STEP_UP),
    ("post", MFA_RECOVERY_CODES),
    ("get", ME),
    ("patch", ME),
    ("get", HEALTH),
    ("get", METRICS),
    ("get", OPENAPI),
    ("get", DOCS),
    ("get", JWKS),
    ("get", ADMIN_USERS),
    ("get", "/api/v1/admin/users/{user_id}"),
    ("post", "/api/v1/admin/users/{user_id}/deactivate"),
    ("post", "/api/v1/admin/users/{user_id}/activate"),
    ("delete", "/api/v1/admin/users/{user_id}/sessions"),
    ("post", "/api/v1/admin/users/{user_id}/password-reset"),
    ("get", ADMIN_AUDIT_EVENTS),
    ("get", SECURITY_EVENTS),
    ("post", COMPROMISED),
    ("post", EMAIL_VERIFY_RESEND),
    ("post", ME_EMAIL),
    ("post", EMAIL_CHANGE_CONFIRM),
    ("post", EMAIL_CHANGE_REVERT),
    ("delete", ME),
    ("get", ME_EXPORT),
    ("post", PASSKEY_REGISTER_OPTIONS),
    ("post", PASSKEY_REGISTER_VERIFY),
    ("get", PASSKEYS),
    ("delete", "/api/v1/auth/passkeys/{passkey_id}"),
    ("post", PASSKEY_LOGIN_OPTIONS),
    ("post", PASSKEY_LOGIN_VERIFY),
    ("post", MFA_PASSKEY_OPTIONS),
    ("get", OAUTH_PROVIDERS),
    ("get", "/api/v1/auth/oauth/{provider}/authorize"),
    ("get", "/api/v1/auth/oauth/{provider}/callback"),
    ("post", OAUTH_TOKEN),
    ("get", IDENTITIES),
    ("post", "/api/v1/users/me/identities/{provider}/link"),
    ("delete", "/api/v1/users/me/identities/{provider}"),
]
# API.md's error table (404 and 405 come from routing, for any path).
CONTRACT_ERRORS = [
    (400, "invalid_json"),
    (400, "validation_error"),
    (401, "invalid_credentials"),
    (400, "invalid_credentials"),
    (401, "token_missing"),
    (401, "token_invalid"),
    (401, "token_expired"),
    (401, "token_revoked"),
    (403, "csrf_failed"),
    (403, "account_disabled"),
    (403, "email_unverified"),
    (400, "invalid_cursor"),
    (400, "invalid_mfa_code"),
    (401, "invalid_mfa_code"),
    (403, "forbidden"),
    (403, "mfa_required"),
    (404, "not_found"),
    (409, "email_taken"),
    (409, "last_admin"),
    (409, "mfa_already_enabled"),
    (409, "mfa_not_enabled"),
    (409, "mfa_not_pending"),
    (400, "return_to_invalid"),
    (400, "redirect_uri_invalid"),
    (401, "login_code_invalid"),
    (401, "code_verifier_invalid"),
    (403, "reauthentication_required"),
    (409, "last_sign_in_method"),
    (413, "payload_too_large"),
    (415, "unsupported_media_type"),
    (429, "rate_limited"),
    (500, "internal_error"),
]
TOKEN_CODES = {"token_missing", "token_invalid", "token_expired", "token_revoked"}


@pytest.fixture
def document(client):
    response = client.get(OPENAPI)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield method, path, operation


def error_codes(operation, status):
    """The `code` enum of an operation's error response for `status`."""
    response = operation["responses"].get(str(status))
    if response is None:
        return set()
    schema = response["content"]["application/json"]["schema"]
    return set(schema["allOf"][1]["properties"]["code"]["enum"])


def walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    OpenAPIV31SpecValidator(document).validate()


def test_every_route_of_the_app_is_documented(app, document):
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_DOCUMENTED or rule.endpoint == "static":
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method.lower() not in document["paths"].get(path, {}):
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, f"routes missing from the OpenAPI document: {missing}"


def test_every_endpoint_of_the_contract_is_documented(document):
    documented = {(method, path) for method, path, _ in operations(document)}
    assert set(CONTRACT_ENDPOINTS) <= documented
    # And nothing undocumented in the contract slipped in.
    assert documented <= set(CONTRACT_ENDPOINTS)


def test_every_error_of_the_contract_is_documented(document):
    documented = {
        (int(status), code)
        for _, _, operation in operations(document)
        for status in operation["responses"]
        if status.startswith(("4", "5"))
        for code in error_codes(operation, status)
    }
    assert set(CONTRACT_ERRORS) <= documented, set(CONTRACT_ERRORS) - documented
    error_enum = document["components"]["schemas"]["Error"]["properties"]["code"]
    assert {code for _, code in CONTRACT_ERRORS} <= set(error_enum["enum"])


def test_each_operation_lists_its_own_error_codes(document):
    paths = document["paths"]
    register = paths[REGISTER]["post"]
    assert error_codes(register, 409) == {"email_taken"}
    assert error_codes(register, 400) == {"invalid_json", "validation_error"}
    assert error_codes(register, 429) == {"rate_limited"}
    login = paths[LOGIN]["post"]
    assert error_codes(login, 401) == {"invalid_credentials"}
    assert error_codes(login, 403) == {"account_disabled", "email_unverified"}
    refresh = paths[REFRESH]["post"]
    assert error_codes(refresh, 401) == TOKEN_CODES
    assert error_codes(refresh, 403) == {
        "csrf_failed",
        "account_disabled",
        "email_unverified",
    }
    change = paths[PASSWORD_CHANGE]["post"]
    assert "invalid_credentials" in error_codes(change, 400)
    assert error_codes(paths[ME]["get"], 401) == TOKEN_CODES
    revoke = paths["/api/v1/auth/sessions/{session_id}"]["delete"]
    assert error_codes(revoke, 404) == {"not_found"}
    assert error_codes(paths[HEALTH]["get"], 503) == {"unavailable"}
    for method, path, operation in operations(document):
        assert error_codes(operation, 500) == {"internal_error"}, (method, path)
        with_body = "requestBody" in operation
        assert ("413" in operation["responses"]) == with_body, (method, path)
        assert ("415" in operation["responses"]) == with_body, (method, path)


def test_statuses_and_envelopes(document):
    paths = document["paths"]
    assert "201" in paths[REGISTER]["post"]["responses"]
    assert "202" in paths[PASSWORD_RESET]["post"]["responses"]
    me = paths[ME]["get"]["responses"]["200"]
    schema = me["content"]["application/json"]["schema"]
    assert schema["properties"]["success"] == {"const": True}
    assert schema["properties"]["data"] == {"$ref": "#/components/schemas/UserData"}
    error = document["components"]["schemas"]["Error"]
    assert error["properties"]["success"] == {"const": False}
    assert set(error["required"]) == {"success", "error", "code"}
    assert "details" in error["properties"]


def test_security_schemes(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["accessToken"] == {
        **schemes["accessToken"],
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert schemes["refreshToken"]["scheme"] == "bearer"
    assert (schemes["refreshCookie"]["in"], schemes["refreshCookie"]["name"]) == (
        "cookie",
        "refresh_token",
    )
    assert (schemes["csrfHeader"]["in"], schemes["csrfHeader"]["name"]) == (
        "header",
        "X-CSRF-TOKEN",
    )
    paths = document["paths"]
    assert paths[ME]["get"]["security"] == [{"accessToken": []}]
    assert paths[LOGIN]["post"]["security"] == []
    refresh = paths[REFRESH]["post"]["security"]
    assert {"refreshCookie": [], "csrfHeader": []} in refresh
    assert {"refreshToken": []} in refresh


def test_auth_mode_header_on_register_and_login(document):
    for path in (REGISTER, LOGIN):
        parameters = document["paths"][path]["post"]["parameters"]
        (mode,) = [p for p in parameters if p["name"] == "X-Auth-Mode"]
        assert mode["in"] == "header"
        assert mode["schema"]["enum"] == ["cookie", "bearer"]


def test_response_headers(document):
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            assert "X-Request-ID" in response["headers"], (method, path, status)
            if status == "429":
                assert "Retry-After" in response["headers"]
            if status == "401":
                assert "WWW-Authenticate" in response["headers"]
    for path in ("register", "login", "refresh-token"):
        ok = next(
            response
            for status, response in document["paths"][f"/api/v1/auth/{path}"]["post"][
                "responses"
            ].items()
            if status.startswith("2")
        )
        assert {"Authorization", "Set-Cookie"} <= set(ok["headers"])


def test_nullable_is_written_the_3_1_way(document):
    user = document["components"]["schemas"]["User"]
    assert user["properties"]["profilePicture"]["type"] == ["string", "null"]
    assert not [node for node in walk(document) if "nullable" in node]


def test_schemas_come_from_marshmallow(document):
    schemas = document["components"]["schemas"]
    register = schemas["Register"]
    assert set(register["required"]) == {"name", "email", "password"}
    assert register["additionalProperties"] is False
    assert register["properties"]["email"]["format"] == "email"
    assert register["properties"]["password"]["writeOnly"] is True
    assert set(schemas["User"]["properties"]) == USER_FIELDS
    assert schemas["User"]["properties"]["createdAt"]["format"] == "date-time"
    assert schemas["Session"]["properties"]["current"]["type"] == "boolean"
    assert "refreshToken" not in schemas["TokenData"]["required"]


def test_examples_match_their_schemas(document):
    checked = 0
    for method, path, operation in operations(document):
        media = [operation.get("requestBody", {}).get("content", {})]
        media += [
            response.get("content", {}) for response in operation["responses"].values()
        ]
        for content in media:
            for item in content.values():
                # `#/components/...` references resolve against this root.
                schema = {**item["schema"], "components": document["components"]}
                validator = Draft202012Validator(
                    schema, format_checker=Draft202012Validator.FORMAT_CHECKER
                )
                for name, example in item.get("examples", {}).items():
                    errors = list(validator.iter_errors(example["value"]))
                    assert not errors, (method, path, name, errors[0].message)
                    checked += 1
    assert checked > 50


def test_links_use_only_values_every_answer_has(document):
    # A link must hold whatever the request was: the refresh token is in the body
    # only for bearer sessions, so no link may read `data.refreshToken`.
    paths = document["paths"]
    register = paths[REGISTER]["post"]["responses"]["201"]["links"]
    assert register["login"]["operationId"] == "login"
    schemas = document["components"]["schemas"]
    for _, path, operation in operations(document):
        for response in operation["responses"].values():
            for name, link in response.get("links", {}).items():
                values = [*link.get("parameters", {}).values()]
                values += [*link.get("requestBody", {}).values()]
                for value in values:
                    if not value.startswith("$response.body#/"):
                        continue
                    node = response["content"]["application/json"]["schema"]
                    for part in value.removeprefix("$response.body#/").split("/"):
                        if "$ref" in node:
                            node = schemas[node["$ref"].rsplit("/", 1)[1]]
                        assert part in node.get("required", []), (path, name, value)
                        node = node["properties"][part]


@pytest.mark.config(METRICS_ENABLED=False)
def test_a_disabled_route_leaves_the_document(document):
    assert METRICS not in document["paths"]


def test_document_is_cached_per_app(app, client):
    client.get(OPENAPI)
    first = app.extensions["openapi_document"]
    client.get(OPENAPI)
    assert app.extensions["openapi_document"] is first
