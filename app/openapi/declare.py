"""What a view says about itself, once, next to its code (the APIFairy way).

    @bp.post("/login")
    @operation(tag="auth", errors={401: ["invalid_credentials"]}, auth_mode=True)
    @response(LoginDataSchema, tokens=True, examples=...)
    @limit_login
    @body(LoginSchema, examples=...)
    def login(body):
        \"\"\"Log in and open a session.

        The rest of the docstring is the operation's description.
        \"\"\"

`body` loads the JSON body through its schema and passes it to the view; `response`
dumps what the view returns through its schema into the success envelope. The
OpenAPI builder (spec.py) reads the same declarations, so the document cannot say
something the view does not do. Summary and description come from the docstring.
"""

import inspect
from dataclasses import dataclass, field
from functools import wraps

from flask import jsonify, request

from app.auth.transport import clear_cookies, token_response
from app.errors import success
from app.http import load_body
from app.schemas.base import camelcase

# Who may call: nobody in particular, an access token, a refresh token, or either.
PUBLIC = "public"
ACCESS = "access"
REFRESH = "refresh"
REFRESH_OR_ACCESS = "refresh_or_access"

# Roles an access-token operation may require beyond a valid token.
ROLE_ADMIN = "admin"

JSON = "application/json"
ATTRIBUTE = "api_declaration"


@dataclass
class Body:
    schema: type
    examples: dict
    optional: bool


@dataclass
class Answer:
    schema: type | None
    status: int
    examples: dict
    envelope: bool
    media_type: str
    tokens: bool
    clears_cookies: bool
    cache_control: str | None
    links: dict
    alternative: type | None = None


@dataclass(frozen=True)
class Alternative:
    """What a view returns for its other answer: dumped through `alternative`."""

    payload: object


@dataclass
class Declaration:
    """Everything the document says about one view."""

    tag: str = ""
    operation_id: str = ""
    security: str = PUBLIC
    errors: dict = field(default_factory=dict)  # status -> codes of this view
    auth_mode: bool = False  # reads X-Auth-Mode (picks the transport)
    device_cookie: bool = False  # reads the device_token cookie (app/auth/devices.py)
    role: str | None = None  # ROLE_ADMIN: the admin check (app/admin/access.py)
    query: type | None = None  # the query-string schema
    # A compatibility profile's error answers: {"media_type", "schema"} (app/compat);
    # None: the failure envelope.
    errors_as: dict | None = None
    body: Body | None = None
    response: Answer | None = None
    summary: str = ""
    description: str = ""


def declaration_of(view):
    """The view's declaration; None unless it has both `operation` and `response`."""
    declaration = getattr(view, ATTRIBUTE, None)
    if declaration is None or not declaration.tag or declaration.response is None:
        return None
    return declaration


def _declaring(view):
    # functools.wraps copies __dict__, so every wrapper of the view (limits, token
    # checks) carries the same Declaration object up to the registered function.
    declaration = getattr(view, ATTRIBUTE, None)
    if declaration is None:
        declaration = Declaration()
        setattr(view, ATTRIBUTE, declaration)
    return declaration


def operation(
    *,
    tag,
    security=PUBLIC,
    errors=None,
    auth_mode=False,
    device_cookie=False,
    operation_id=None,
    summary=None,
    description=None,
    role=None,
    errors_as=None,
):
    """The operation's tag, who may call it and the error codes particular to it.

    The builder adds what follows from the other declarations (400/413/415 of a
    body, 401/403 of the security, 429 of a rate limit, 500 everywhere). The
    operation id is the view's name in camelCase, the summary the first line of its
    docstring and the description the rest, unless given.
    """

    def decorate(view):
        declaration = _declaring(view)
        declaration.tag = tag
        declaration.security = security
        declaration.errors = errors or {}
        declaration.auth_mode = auth_mode
        declaration.device_cookie = device_cookie
        declaration.role = role
        declaration.errors_as = errors_as
        declaration.operation_id = operation_id or camelcase(view.__name__)
        first, _, rest = inspect.cleandoc(view.__doc__ or "").partition("\n")
        declaration.summary = summary or first.strip().removesuffix(".")
        declaration.description = description or " ".join(rest.split())
        return view

    return decorate


def body(schema, *, examples=None, optional=False, load=True):
    """The JSON body: loaded through `schema` and passed to the view as `body`.

    `load=False` only documents it, for a body another layer reads (the refresh
    token body is read by the transport along with the header and the cookie).
    """

    def decorate(view):
        declaration = _declaring(view)
        declaration.body = Body(
            schema=schema, examples=examples or {}, optional=optional
        )
        if not load:
            return view
        loader = schema()

        @wraps(view)
        def loaded(*args, **kwargs):
            return view(*args, body=load_body(loader, optional=optional), **kwargs)

        return loaded

    return decorate


def query(schema):
    """The query string: loaded through `schema` and passed to the view as `query`.

    Unknown parameters are 400 `validation_error`, as unknown body fields are.
    """

    def decorate(view):
        _declaring(view).query = schema
        loader = schema()

        @wraps(view)
        def loaded(*args, **kwargs):
            return view(*args, query=loader.load(request.args.to_dict()), **kwargs)

        return loaded

    return decorate


def response(
    schema=None,
    status=200,
    *,
    examples=None,
    tokens=False,
    clears_cookies=False,
    envelope=True,
    media_type=JSON,
    cache_control=None,
    links=None,
    dump=True,
    alternative=None,
):
    """The success answer: what the view returns, dumped through `schema`.

    - tokens: the view returns `(issued_tokens, payload)`; the answer carries the
      token fields, the Authorization header and, for cookie sessions, the cookies.
    - envelope=False: a standard document answered as is (a JWK Set); the view may
      return `(payload, headers)`.
    - schema=None or dump=False: the view builds its own response (text, HTML);
      this only documents it.
    - alternative: a second schema of the same status; the view returns
      `Alternative(payload)` for it (a login that still needs a second factor).
    """

    def decorate(view):
        declaration = _declaring(view)
        declaration.response = Answer(
            schema=schema,
            status=status,
            examples=examples or {},
            envelope=envelope,
            media_type=media_type,
            tokens=tokens,
            clears_cookies=clears_cookies,
            cache_control=cache_control,
            links=links or {},
            alternative=alternative,
        )
        if schema is None or not dump:
            return view
        dumper = schema()
        other_dumper = alternative() if alternative else None

        @wraps(view)
        def answered(*args, **kwargs):
            result = view(*args, **kwargs)
            if isinstance(result, Alternative):
                return success(other_dumper.dump(result.payload), status)
            if tokens:
                issued, payload = result
                return token_response(issued, dumper.dump(payload), status=status)
            if not envelope:
                payload, headers = result if isinstance(result, tuple) else (result, {})
                answer = jsonify(dumper.dump(payload))
                answer.status_code = status
                answer.headers.update(headers)
                return answer
            answer = success(dumper.dump(result), status)
            return clear_cookies(answer) if clears_cookies else answer

        return answered

    return decorate
