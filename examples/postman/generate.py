#!/usr/bin/env python3
"""Write the Postman collection (v2.1) of the two auth flows from the OpenAPI document.

    .venv/bin/python examples/postman/generate.py          # rewrite the collection
    .venv/bin/python examples/postman/generate.py --check  # exit 1 if it is stale
    .venv/bin/python examples/postman/generate.py --document openapi.json

Each request's path, method, headers, auth and example body come from the document,
looked up by operationId; a step naming a status, error code, header value, security
alternative or body field the document does not declare is an error. Only the order
of the steps and what their Postman test scripts check are written here. Standard
library only (plus the app itself, unless --document names a saved document).
"""

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
COLLECTION = HERE / "auth-server.postman_collection.json"
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
# The JS-readable cookie a cookie session echoes in its CSRF header (double submit).
CSRF_COOKIE = "csrf_refresh_token"
# Collection variables a security scheme's credential is kept in (else its own name).
SCHEME_VARIABLES = {"csrfHeader": "csrfToken"}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Step:
    name: str
    operation: str  # operationId
    status: int  # a documented response status
    code: str | None = None  # the documented error code of a failure status
    example: str | None = None  # the request body example to send
    body: dict = field(default_factory=dict)  # body field -> variable it is set from
    headers: dict = field(default_factory=dict)  # declared header parameter -> value
    security: tuple = ()  # the schemes of one of the operation's security alternatives
    store: dict = field(default_factory=dict)  # variable -> field of the answer's data
    cookies: dict = field(default_factory=dict)  # variable -> cookie of the answer
    checks: tuple = ()  # (test name, JS lines) of what else the answer must show


BEARER = {"X-Auth-Mode": "bearer"}
USER_IS_EMAIL = (
    "the user is the account of this run's email",
    [
        "const user = pm.response.json().data.user;",
        'pm.expect(user.email).to.equal(pm.variables.get("email"));',
    ],
)
NO_COOKIES = (
    "no cookies in the bearer transport",
    ['pm.expect(pm.response.headers.has("Set-Cookie")).to.equal(false);'],
)

BEARER_FLOW = [
    Step(
        "Register (bearer)",
        "register",
        201,
        example="register",
        body={"name": "name", "email": "email", "password": "password"},
        headers=BEARER,
        store={"accessToken": "accessToken", "refreshToken": "refreshToken"},
        checks=(USER_IS_EMAIL, NO_COOKIES),
    ),
    Step(
        "Who am I",
        "getMe",
        200,
        security=("accessToken",),
        checks=(USER_IS_EMAIL,),
    ),
    Step(
        "Refresh with the refresh token (it rotates)",
        "refreshToken",
        200,
        security=("refreshToken",),
        checks=(
            (
                "a new refresh token replaces the spent one",
                [
                    "const data = pm.response.json().data;",
                    "pm.expect(data.refreshToken).to.not.equal("
                    'pm.collectionVariables.get("refreshToken"));',
                ],
            ),
        ),
        store={"accessToken": "accessToken", "refreshToken": "refreshToken"},
    ),
    Step(
        "Sessions",
        "listSessions",
        200,
        security=("accessToken",),
        checks=(
            (
                "the session of this access token is listed as current",
                [
                    "const sessions = pm.response.json().data.sessions;",
                    "pm.expect(sessions.filter((s) => s.current)).to.have.lengthOf(1);",
                ],
            ),
        ),
    ),
    Step(
        "Logout (refresh token in the body)",
        "logout",
        200,
        example="mobile",
        body={"refreshToken": "refreshToken"},
    ),
    Step(
        "Who am I after logout",
        "getMe",
        401,
        code="token_revoked",
        security=("accessToken",),
    ),
]

CSRF_FROM_COOKIE = {"csrfToken": CSRF_COOKIE}
COOKIE_SESSION = ("csrfHeader", "refreshCookie")
COOKIE_FLOW = [
    Step(
        "Login (cookie)",
        "login",
        200,
        example="login",
        body={"email": "email", "password": "password"},
        store={"accessToken": "accessToken"},
        cookies=CSRF_FROM_COOKIE,
        checks=(
            (
                "the refresh token is only in the HttpOnly cookie",
                [
                    'pm.expect(pm.response.json().data).to.not.have.property("refreshToken");',
                    'pm.expect(pm.cookies.has("refresh_token")).to.equal(true);',
                ],
            ),
        ),
    ),
    Step(
        "Refresh with the cookie and X-CSRF-TOKEN",
        "refreshToken",
        200,
        example="browser",
        security=COOKIE_SESSION,
        store={"accessToken": "accessToken"},
        cookies=CSRF_FROM_COOKIE,
    ),
    Step(
        "Logout (clears the cookies)",
        "logout",
        200,
        example="browser",
        security=COOKIE_SESSION,
    ),
    Step(
        "Refresh after logout",
        "refreshToken",
        401,
        code="token_missing",
        example="browser",
        security=COOKIE_SESSION,
    ),
]

FOLDERS = [
    (
        "Bearer flow",
        "Mobile and server clients (X-Auth-Mode: bearer): tokens in JSON, no cookies.",
        BEARER_FLOW,
    ),
    (
        "Cookie flow",
        "Browser clients: the refresh token in an HttpOnly cookie, X-CSRF-TOKEN "
        f"echoing the {CSRF_COOKIE} cookie. Logs in the account the bearer flow "
        "registered.",
        COOKIE_FLOW,
    ),
]

# Unless set (newman --env-var email=...), each run registers an account of its own.
UNIQUE_EMAIL = [
    'if (!pm.variables.get("email")) {',
    '    pm.collectionVariables.set("email", `ada-${Date.now()}@example.com`);',
    "}",
]


class DocumentMismatch(Exception):
    """A step asks for something the OpenAPI document does not declare."""


def operations_by_id(document):
    found = {}
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                found[item[method]["operationId"]] = (method, path, item[method])
    return found


def js_string(value):
    return json.dumps(value)


def status_test(step, operation):
    responses = operation.get("responses", {})
    if str(step.status) not in responses:
        raise DocumentMismatch(f"{step.operation} documents no {step.status}")
    if step.code is None:
        name = js_string(f"{step.status} and the success envelope")
        return [
            f"pm.test({name}, function () {{",
            f"    pm.response.to.have.status({step.status});",
            "    pm.expect(pm.response.json().success).to.equal(true);",
            "});",
        ]
    examples = (
        responses[str(step.status)]
        .get("content", {})
        .get("application/json", {})
        .get("examples", {})
    )
    codes = {example["value"].get("code") for example in examples.values()}
    if step.code not in codes:
        raise DocumentMismatch(
            f"{step.operation} documents no {step.status} {step.code!r}"
        )
    return [
        f"pm.test({js_string(f'{step.status} {step.code}')}, function () {{",
        f"    pm.response.to.have.status({step.status});",
        "    const body = pm.response.json();",
        "    pm.expect(body.success).to.equal(false);",
        f"    pm.expect(body.code).to.equal({js_string(step.code)});",
        "});",
    ]


def test_script(step, operation):
    lines = status_test(step, operation)
    for name, body in step.checks:
        lines += [f"pm.test({js_string(name)}, function () {{"]
        lines += [f"    {line}" for line in body] + ["});"]
    for variable, data_field in step.store.items():
        lines += [
            f"pm.test({js_string(f'keeps data.{data_field} as {{{{{variable}}}}}')}, "
            "function () {",
            f"    const value = pm.response.json().data[{js_string(data_field)}];",
            '    pm.expect(value).to.be.a("string").that.is.not.empty;',
            f"    pm.collectionVariables.set({js_string(variable)}, value);",
            "});",
        ]
    for variable, cookie in step.cookies.items():
        lines += [
            f"pm.test({js_string(f'keeps the {cookie} cookie as {{{{{variable}}}}}')}, "
            "function () {",
            f"    const value = pm.cookies.get({js_string(cookie)});",
            '    pm.expect(value).to.be.a("string").that.is.not.empty;',
            f"    pm.collectionVariables.set({js_string(variable)}, value);",
            "});",
        ]
    return lines


def security_parts(step, operation, schemes):
    """The Postman auth and headers that present one of the operation's alternatives."""
    alternatives = [set(alternative) for alternative in operation.get("security", [])]
    if set(step.security) not in alternatives:
        raise DocumentMismatch(
            f"{step.operation} has no security alternative {list(step.security)}"
        )
    auth, headers = None, []
    for name in step.security:
        scheme = schemes[name]
        variable = "{{" + SCHEME_VARIABLES.get(name, name) + "}}"
        if scheme["type"] == "http" and scheme.get("scheme") == "bearer" and not auth:
            token = {"key": "token", "value": variable, "type": "string"}
            auth = {"type": "bearer", "bearer": [token]}
        elif scheme["type"] == "apiKey" and scheme["in"] == "header":
            headers.append({"key": scheme["name"], "value": variable})
        elif not (scheme["type"] == "apiKey" and scheme["in"] == "cookie"):
            # Cookies come from the run's cookie jar; nothing else is expected here.
            raise DocumentMismatch(f"security scheme {name} is not handled")
    return auth, headers


def header_parts(step, operation):
    declared = {
        parameter["name"]: parameter.get("schema", {})
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "header"
    }
    headers = []
    for name, value in step.headers.items():
        if name not in declared or value not in declared[name].get("enum", [value]):
            raise DocumentMismatch(
                f"{step.operation} declares no header {name}: {value}"
            )
        headers.append({"key": name, "value": value})
    return headers


def body_part(step, operation):
    """The example body, its fields set from collection variables; its media type."""
    content = operation.get("requestBody", {}).get("content", {})
    if step.example is None:
        if step.body:
            raise DocumentMismatch(f"{step.name}: body fields without an example")
        return None, None
    media_type = "application/json"
    examples = content.get(media_type, {}).get("examples", {})
    if step.example not in examples:
        raise DocumentMismatch(f"{step.operation} has no body example {step.example!r}")
    value = dict(examples[step.example]["value"])
    for body_field, variable in step.body.items():
        if body_field not in value:
            raise DocumentMismatch(
                f"{step.operation} example {step.example!r} has no field {body_field!r}"
            )
        value[body_field] = "{{" + variable + "}}"
    body = {
        "mode": "raw",
        "raw": json.dumps(value, indent=2),
        "options": {"raw": {"language": "json"}},
    }
    return body, media_type


def request_item(step, operations, schemes):
    if step.operation not in operations:
        raise DocumentMismatch(f"no operation {step.operation!r} in the document")
    method, path, operation = operations[step.operation]
    if "{" in path:
        raise DocumentMismatch(f"{path}: path parameters are not supported here")
    body, media_type = body_part(step, operation)
    headers = header_parts(step, operation)
    auth = None
    if step.security:
        auth, security_headers = security_parts(step, operation, schemes)
        headers += security_headers
    if media_type:
        headers.append({"key": "Content-Type", "value": media_type})
    request = {
        "method": method.upper(),
        "header": headers,
        "url": {
            "raw": "{{baseUrl}}" + path,
            "host": ["{{baseUrl}}"],
            "path": path.strip("/").split("/"),
        },
    }
    if auth:
        request["auth"] = auth
    if body:
        request["body"] = body
    script = {"type": "text/javascript", "exec": test_script(step, operation)}
    return {
        "name": step.name,
        "event": [{"listen": "test", "script": script}],
        "request": request,
    }


def variable_defaults(operations):
    """baseUrl, the tokens (empty), and the account from the document's examples."""
    defaults = {"baseUrl": DEFAULT_BASE_URL}
    for _, _, steps in FOLDERS:
        for step in steps:
            if step.example is None:
                continue
            operation = operations[step.operation][2]
            media = operation["requestBody"]["content"]["application/json"]
            example = media["examples"][step.example]["value"]
            for body_field, variable in step.body.items():
                defaults.setdefault(variable, example[body_field])
            for variable in [*step.store, *step.cookies]:
                defaults.setdefault(variable, "")
    # A fixed example address would be taken on the second run.
    defaults["email"] = ""
    return [{"key": key, "value": value} for key, value in defaults.items()]


def build_collection(document):
    operations = operations_by_id(document)
    schemes = document.get("components", {}).get("securitySchemes", {})
    folders = [
        {
            "name": name,
            "description": description,
            "item": [request_item(step, operations, schemes) for step in steps],
        }
        for name, description, steps in FOLDERS
    ]
    return {
        "info": {
            "name": document["info"]["title"],
            "description": (
                "The bearer and the cookie flow, generated from the OpenAPI document "
                "by examples/postman/generate.py (do not edit by hand). Set baseUrl; "
                "email is new for each run unless set."
            ),
            "schema": SCHEMA,
        },
        "event": [
            {
                "listen": "prerequest",
                "script": {"type": "text/javascript", "exec": UNIQUE_EMAIL},
            }
        ],
        "variable": variable_defaults(operations),
        "item": folders,
    }


def render(collection):
    return json.dumps(collection, indent=2, ensure_ascii=False) + "\n"


def app_document():
    """The document the app serves, from a throwaway testing app."""
    sys.path.insert(0, str(ROOT))
    from app import create_app

    app = create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "LOG_LEVEL": "ERROR",
        }
    )
    response = app.test_client().get("/api/v1/openapi.json")
    if response.status_code != 200:
        raise RuntimeError(f"GET /api/v1/openapi.json: {response.status_code}")
    return response.get_json()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--document", type=Path, help="a saved OpenAPI document")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the collection is stale"
    )
    args = parser.parse_args(argv)
    if args.document:
        document = json.loads(args.document.read_text(encoding="utf-8"))
    else:
        document = app_document()
    try:
        text = render(build_collection(document))
    except DocumentMismatch as error:
        print(f"the OpenAPI document no longer fits a step: {error}", file=sys.stderr)
        return 2
    if args.check:
        current = COLLECTION.read_text(encoding="utf-8") if COLLECTION.exists() else ""
        if current != text:
            print(
                f"{COLLECTION.relative_to(ROOT)} is stale: run "
                f"python {Path(__file__).relative_to(ROOT)}",
                file=sys.stderr,
            )
            return 1
        return 0
    COLLECTION.write_text(text, encoding="utf-8")
    print(f"wrote {COLLECTION.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
