"""Build the OpenAPI 3.1 document from the app's routes and what each view declares.

Paths and methods come from `app.url_map`, everything about an operation from the
declarations on its view (`declare.py`), bodies from their marshmallow schemas
(apispec's MarshmallowPlugin). Nothing here is a hand-written copy of the routes.
"""

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields

from app.errors import HTTP_CODES, HTTP_MESSAGES, ApiError
from app.openapi.declare import (
    ACCESS,
    JSON,
    PUBLIC,
    REFRESH,
    REFRESH_OR_ACCESS,
    ROLE_ADMIN,
    declaration_of,
)
from app.ratelimit import limits_for
from app.schemas.base import NormalizedEmail, Text, UTCDateTimeField, camelcase

TITLE = "Auth server API"
VERSION = "1.0.0"
OPENAPI_VERSION = "3.1.0"
# The repository grants no licence; the document must not claim one.
LICENSE = {"name": "Proprietary (no licence granted)"}
CONTACT = {"name": "Auth server maintainers"}
# Relative: the document describes the server that serves it, wherever it runs.
SERVERS = [{"url": "/", "description": "The server that serves this document."}]
TAGS = [
    {"name": "auth", "description": "Registration and login."},
    {"name": "sessions", "description": "Refresh, logout and the session list."},
    {"name": "password", "description": "Password reset and change."},
    {"name": "email", "description": "Email verification and email change."},
    {
        "name": "mfa",
        "description": "Two-factor sign-in (TOTP, recovery codes, a passkey).",
    },
    {
        "name": "passkeys",
        "description": "Passkeys (WebAuthn): add, list, remove, sign in without "
        "a password.",
    },
    {
        "name": "oauth",
        "description": "Sign-in with OpenID Connect providers and GitHub "
        "(docs/oidc.md), and the caller's linked identities.",
    },
    {
        "name": "users",
        "description": "The caller's profile, security feed, data export and "
        "account deletion.",
    },
    {
        "name": "admin",
        "description": "Running the service: needs an admin token "
        "(`x-required-role: admin`); every call is audited.",
    },
    {"name": "operations", "description": "Health, metrics and signing keys."},
    {"name": "documentation", "description": "This document and its UI."},
]
# Routes that serve the docs page's own files: plumbing, not API.
UNDOCUMENTED_ENDPOINTS = {"openapi.docs_asset"}
# app.extensions key: tags that routes registered beyond TAGS (app/compat).
EXTRA_TAGS = "openapi_extra_tags"
AUTOMATIC_METHODS = {"HEAD", "OPTIONS"}

# `Text` refuses the Cc category (C0, DEL, C1); the same rule as a JSON Schema pattern.
NO_CONTROL_CHARACTERS = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
TOKEN_CODES = ["token_missing", "token_invalid", "token_expired", "token_revoked"]
INTERNAL_ERROR_MESSAGE = "An internal error occurred."

SECURITY_SCHEMES = {
    "accessToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The access token: `Authorization: Bearer <accessToken>`.",
    },
    "refreshToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": (
            "Bearer sessions (`X-Auth-Mode: bearer`): the refresh token as "
            "`Authorization: Bearer <refreshToken>` (or in the JSON body as "
            "`refreshToken`)."
        ),
    },
    "refreshCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "refresh_token",
        "description": (
            "Cookie sessions: the HttpOnly `refresh_token` cookie (Path "
            "`/api/v1/auth`), sent by the browser. Needs the `csrfHeader` too."
        ),
    },
    "csrfHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF-TOKEN",
        "description": (
            "Cookie sessions: the value of the JS-readable `csrf_refresh_token` "
            "cookie, echoed in the `X-CSRF-TOKEN` header (double submit)."
        ),
    },
}
# `{}` on the refresh operations: a bearer refresh token may come in the JSON body
# instead (`{"refreshToken": ...}`), which no security scheme can express.
SECURITY = {
    PUBLIC: [],
    ACCESS: [{"accessToken": []}],
    REFRESH: [{"refreshCookie": [], "csrfHeader": []}, {"refreshToken": []}, {}],
    REFRESH_OR_ACCESS: [
        {"refreshCookie": [], "csrfHeader": []},
        {"refreshToken": []},
        {"accessToken": []},
        {},
    ],
}

HEADERS = {
    "X-Request-ID": {
        "description": (
            "The request's id: the caller's `X-Request-ID` when it is 1 to 128 of "
            "`A-Z a-z 0-9 . _ : -`, else a new one. Logs carry the same id."
        ),
        "required": True,
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "`no-store` on API answers (they carry tokens or user data).",
        "schema": {"type": "string"},
    },
    "Authorization": {
        "description": "`Bearer <accessToken>`, the access token of the body.",
        "required": True,
        "schema": {"type": "string", "pattern": "^Bearer .+$"},
    },
    "Set-Cookie": {
        "description": (
            "Cookie transport only: `refresh_token` (HttpOnly, Path `/api/v1/auth`, "
            "Secure unless disabled, SameSite per `COOKIE_SAMESITE`) and the "
            "JS-readable `csrf_refresh_token` (Path `/`). Logout expires both. Login "
            "and registration also set `device_token` (HttpOnly, Path "
            "`/api/v1/auth`, `DEVICE_TOKEN_TTL_DAYS` days), which logout keeps."
        ),
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    },
    "WWW-Authenticate": {
        "description": (
            'RFC 6750 challenge: `Bearer realm="api"`, with '
            '`error="invalid_token"` when a token was sent and refused.'
        ),
        "required": True,
        "schema": {"type": "string"},
    },
}

AUTH_MODE_PARAMETER = {
    "name": "X-Auth-Mode",
    "in": "header",
    "required": False,
    "description": (
        "The transport of the new session: `cookie` (default, browser SPAs: the "
        "refresh token goes into an HttpOnly cookie) or `bearer` (mobile and server "
        "clients: the refresh token is in the JSON body, no cookies)."
    ),
    "schema": {"type": "string", "enum": ["cookie", "bearer"], "default": "cookie"},
}

DEVICE_COOKIE_PARAMETER = {
    "name": "device_token",
    "in": "cookie",
    "required": False,
    "description": (
        "Browsers: the HttpOnly device cookie an earlier login or registration of "
        "this account set. A valid one is rate limited per device instead of per "
        "account; anything else is ignored."
    ),
    "schema": {"type": "string"},
}

DESCRIPTION = """\
JSON in and out (UTF-8, camelCase fields). Every JSON answer is an envelope:
`{"success": true, "data": {...}}` or
`{"success": false, "error": "<message>", "code": "<machine_code>", "details": {...}}`
(`details` only where it helps, such as field errors). Each operation lists the
`code` values it can answer with, per status; 404 `not_found` and 405
`method_not_allowed` can come from any path.

**Two token transports.** Access tokens always travel as
`Authorization: Bearer <accessToken>`. Refresh tokens travel either in an HttpOnly
cookie (default; the `X-CSRF-TOKEN` header must echo the `csrf_refresh_token`
cookie) or, with `X-Auth-Mode: bearer` at login or registration, in the JSON body.
A session keeps the transport it was opened with.

**Request ids.** Every answer carries `X-Request-ID`: the caller's, when it sent a
sane one, else a new one.

**Bodies** are strict JSON objects: other JSON values, duplicate keys, `NaN`, deep
nesting, and control characters in text fields are 400.

This document is generated from the server's routes and schemas.
"""


def text_pattern(converter, field, **kwargs):
    """apispec attribute function: text fields say they refuse control characters."""
    if isinstance(field, Text | NormalizedEmail) and "pattern" not in kwargs["ret"]:
        return {"pattern": NO_CONTROL_CHARACTERS}
    return {}


def component_name(schema):
    """`RegisterSchema` -> `Register`: the component name of a marshmallow schema."""
    cls = schema if isinstance(schema, type) else type(schema)
    return cls.__name__.removesuffix("Schema")


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def openapi_path(rule):
    """`/sessions/<session_id>` -> `/sessions/{session_id}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def error_messages():
    """(status, code) -> the message the server sends, from the ApiError classes."""
    messages = {}
    pending = [ApiError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        messages.setdefault((cls.status, cls.code), cls.message)
    for status, code in HTTP_CODES.items():
        messages.setdefault((status, code), HTTP_MESSAGES.get(status, ""))
    messages[(500, "internal_error")] = INTERNAL_ERROR_MESSAGE
    return messages


def nested_schemas(schema_cls, seen=None):
    """The schema and every schema nested in it (for `required` lists)."""
    seen = seen if seen is not None else {}
    name = component_name(schema_cls)
    if name in seen:
        return seen
    seen[name] = schema_cls
    for field in schema_cls().fields.values():
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            nested_schemas(type(inner.schema), seen)
    return seen


def response_required(schema_cls):
    """Fields a dump always has: every field but load-only and documented optional."""
    return [
        field.data_key or name
        for name, field in schema_cls().fields.items()
        if not field.load_only and not field.metadata.get("optional")
    ]


def rate_limited(endpoint):
    """Whether `endpoint` can answer 429: the limits table has an entry for it."""
    return bool(limits_for(endpoint))


class SpecBuilder:
    """Collects the paths of one app and renders the document."""

    def __init__(self, app):
        self.app = app
        self.messages = error_messages()
        self.plugin = MarshmallowPlugin(schema_name_resolver=component_name)
        self.spec = APISpec(
            title=TITLE,
            version=VERSION,
            openapi_version=OPENAPI_VERSION,
            plugins=[self.plugin],
            info={"description": DESCRIPTION, "license": LICENSE, "contact": CONTACT},
            servers=SERVERS,
            # The enabled compatibility profiles' tags (app/compat) follow ours.
            tags=TAGS + list(app.extensions.get(EXTRA_TAGS, [])),
        )
        self.plugin.map_to_openapi_type(UTCDateTimeField, "string", "date-time")
        self.plugin.converter.add_attribute_function(text_pattern)
        self.response_schemas = {}

    def build(self):
        for name, scheme in SECURITY_SCHEMES.items():
            self.spec.components.security_scheme(name, scheme)
        for name, header in HEADERS.items():
            self.spec.components.header(name, header)
        self.spec.components.schema("Error", self.error_component())
        paths = {}
        for rule in sorted(self.app.url_map.iter_rules(), key=lambda r: r.rule):
            if rule.endpoint in UNDOCUMENTED_ENDPOINTS:
                continue
            declaration = declaration_of(self.app.view_functions[rule.endpoint])
            if declaration is None:
                continue  # tests/openapi fails on an undeclared route
            for method in sorted((rule.methods or set()) - AUTOMATIC_METHODS):
                path = paths.setdefault(openapi_path(rule), {"operations": {}})
                path["operations"][method.lower()] = self.operation(declaration, rule)
                path["parameters"] = self.path_parameters(rule)
        for path, item in paths.items():
            self.spec.path(path=path, **item)
        document = self.spec.to_dict()
        for name, schema_cls in self.response_schemas.items():
            component = document["components"]["schemas"][name]
            component["required"] = response_required(schema_cls)
        return document

    def error_component(self):
        codes = sorted({code for _, code in self.messages})
        return {
            "type": "object",
            "description": "The failure envelope.",
            "required": ["success", "error", "code"],
            "properties": {
                "success": {"const": False},
                "error": {"type": "string", "description": "Human readable."},
                "code": {"type": "string", "enum": codes},
                "details": {
                    "type": "object",
                    "description": "Field errors (`{field: [messages]}`) and the like.",
                },
            },
            "additionalProperties": False,
        }

    def schema_ref(self, schema_cls, *, response):
        """Register a marshmallow schema as a component; a `$ref` to it."""
        if response:
            for name, nested in nested_schemas(schema_cls).items():
                self.response_schemas.setdefault(name, nested)
        name = component_name(schema_cls)
        if name not in self.spec.components.schemas:
            extra = {}
            if getattr(schema_cls, "min_fields", 0):
                extra["minProperties"] = schema_cls.min_fields
            one_of = getattr(schema_cls, "exactly_one_of", ())
            if one_of:
                extra["oneOf"] = [{"required": [camelcase(name)]} for name in one_of]
            self.spec.components.schema(name, extra, schema=schema_cls)
        return ref(name)

    def path_parameters(self, rule):
        return [
            {
                "name": argument,
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
            }
            for argument in sorted(rule.arguments)
        ]

    def operation(self, op, rule):
        result = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "description": op.description,
            "tags": [op.tag],
            "security": SECURITY[op.security],
            "responses": self.responses(op, rule),
        }
        parameters = []
        if op.auth_mode:
            parameters.append(AUTH_MODE_PARAMETER)
        if op.device_cookie:
            parameters.append(DEVICE_COOKIE_PARAMETER)
        if op.query is not None:
            parameters.extend(
                self.plugin.converter.schema2parameters(op.query, location="query")
            )
        if parameters:
            result["parameters"] = parameters
        if op.role is not None:
            result["x-required-role"] = op.role
        if op.body is not None:
            body = {"schema": self.schema_ref(op.body.schema, response=False)}
            if op.body.examples:
                body["examples"] = op.body.examples
            result["requestBody"] = {
                "required": not op.body.optional,
                "content": {JSON: body},
            }
        return result

    def responses(self, op, rule):
        answer = op.response
        responses = {str(answer.status): self.success_response(op)}
        for status, codes in sorted(self.error_codes(op, rule).items()):
            if op.errors_as is not None:
                responses[str(status)] = self.profile_error(op.errors_as, codes)
            else:
                responses[str(status)] = self.error_response(status, codes)
        return responses

    def profile_error(self, errors_as, codes):
        """An error answer in a compatibility profile's shape (not the envelope)."""
        return {
            "description": ", ".join(f"`{code}`" for code in codes),
            "headers": {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}},
            "content": {errors_as["media_type"]: {"schema": errors_as["schema"]}},
        }

    def success_response(self, op):
        answer = op.response
        headers = {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}}
        if answer.schema is None:
            schema = {"type": "object" if answer.media_type == JSON else "string"}
        elif not answer.envelope:
            schema = self.schema_ref(answer.schema, response=True)
        else:
            schema = {
                "type": "object",
                "required": ["success", "data"],
                "properties": {
                    "success": {"const": True},
                    "data": self.answer_data(answer),
                },
                "additionalProperties": False,
            }
            headers["Cache-Control"] = {"$ref": "#/components/headers/Cache-Control"}
        if answer.tokens:
            headers["Authorization"] = {"$ref": "#/components/headers/Authorization"}
        if answer.tokens or answer.clears_cookies:
            headers["Set-Cookie"] = {"$ref": "#/components/headers/Set-Cookie"}
        if answer.cache_control:
            headers["Cache-Control"] = {
                "description": answer.cache_control,
                "schema": {"type": "string"},
            }
        if answer.status == 204:
            return {"description": op.summary, "headers": headers}
        content = {"schema": schema}
        if answer.examples:
            content["examples"] = {
                name: {**item, "value": {"success": True, "data": item["value"]}}
                for name, item in answer.examples.items()
            }
        response = {
            "description": op.summary,
            "headers": headers,
            "content": {answer.media_type: content},
        }
        if answer.links:
            response["links"] = answer.links
        return response

    def answer_data(self, answer):
        data = self.schema_ref(answer.schema, response=True)
        if answer.alternative is None:
            return data
        other = self.schema_ref(answer.alternative, response=True)
        return {"oneOf": [data, other]}

    def error_codes(self, op, rule):
        """status -> codes: the operation's own, plus those its traits imply."""
        codes = {}

        def add(status, *names):
            bucket = codes.setdefault(status, [])
            bucket.extend(name for name in names if name not in bucket)

        if op.body is not None or op.auth_mode or op.query is not None:
            add(400, "validation_error")
        if op.query is not None and "cursor" in op.query().fields:
            add(400, "invalid_cursor")
        if op.body is not None:
            add(400, "invalid_json")
            add(413, "payload_too_large")
            add(415, "unsupported_media_type")
        if op.security == ACCESS:
            add(401, *TOKEN_CODES)
            add(403, "account_disabled")
        elif op.security == REFRESH:
            add(401, *TOKEN_CODES)
            add(403, "csrf_failed", "account_disabled")
        elif op.security == REFRESH_OR_ACCESS:
            add(401, "token_missing", "token_invalid")
            add(403, "csrf_failed")
        if op.role == ROLE_ADMIN:
            add(403, "forbidden", "mfa_required")
        if rule.arguments:
            add(404, "not_found")
        if rate_limited(rule.endpoint):
            add(429, "rate_limited")
        for status, names in op.errors.items():
            add(status, *names)
        add(500, "internal_error")
        return codes

    def error_response(self, status, codes):
        headers = {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}}
        if status == 401:
            headers["WWW-Authenticate"] = {
                "$ref": "#/components/headers/WWW-Authenticate"
            }
        if status == 429:
            headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
        schema = {
            "allOf": [
                ref("Error"),
                {"properties": {"code": {"enum": codes}}},
            ]
        }
        examples = {}
        for code in codes:
            value = {
                "success": False,
                "error": self.messages.get((status, code), ""),
                "code": code,
            }
            if code == "validation_error":
                value["details"] = {"email": ["Not a valid email address."]}
            examples[code] = {"value": value}
        return {
            "description": ", ".join(f"`{code}`" for code in codes),
            "headers": headers,
            "content": {JSON: {"schema": schema, "examples": examples}},
        }


def build_spec(app):
    """The OpenAPI 3.1 document of `app`, as a dict."""
    return SpecBuilder(app).build()
