"""Who is calling: the access token's live session and user, checked per request."""

from functools import wraps

from flask import g, request
from sqlalchemy import bindparam, select
from sqlalchemy.orm import make_transient_to_detached

from app import clock
from app.auth.tokens import session_id_of, verify_access_token
from app.auth.transport import bearer_token
from app.database import read_connection
from app.errors import AccountDisabled, TokenRevoked
from app.extensions import db
from app.models import User, UserSession

USERS = User.__table__
SESSIONS = UserSession.__table__
USER_CLASS_MANAGER = User.__mapper__.class_manager
# (attribute, column) of every User column: the principal query loads the whole row.
USER_FIELDS = tuple(
    (prop.key, prop.columns[0]) for prop in User.__mapper__.column_attrs
)
# Built once: SQLAlchemy memoises a statement's cache key on the object, so reusing
# it skips rebuilding and re-keying the query on every request. Nothing about the
# session is cached: the row is read again on every request (revocation is immediate).
PRINCIPAL_QUERY = (
    select(
        *(column for _, column in USER_FIELDS),
        SESSIONS.c.revoked_at.label("session_revoked_at"),
        SESSIONS.c.expires_at.label("session_expires_at"),
    )
    .select_from(SESSIONS.join(USERS, USERS.c.id == SESSIONS.c.user_id))
    .where(SESSIONS.c.id == bindparam("session_id"))
)
# CORS preflights carry no token.
EXEMPT_METHODS = frozenset({"OPTIONS"})
PRINCIPAL_CHECKED = "app.principal_checked"


def load_principal(claims):
    """Check an access token's session and user with one query; keep them on `g`.

    One indexed lookup by session id, as a Core statement (no ORM row loading); the
    user row it returns becomes a persistent `User` of the request's session without
    a second query, so routes can change and commit it.
    """
    session_id = session_id_of(claims)
    with read_connection() as connection:
        row = connection.execute(PRINCIPAL_QUERY, {"session_id": session_id}).first()
    if row is None or str(row.id) != claims["sub"]:
        raise TokenRevoked()
    # Before the session check: deactivation also revokes the sessions, and the
    # client should learn the account is disabled, not merely that it was logged out.
    if not row.is_active:
        raise AccountDisabled()
    if row.session_revoked_at is not None or row.session_expires_at <= clock.now():
        raise TokenRevoked()
    g.current_user = attached_user(row)
    g.current_session_id = session_id
    g.access_claims = claims


def attached_user(row):
    """The row as a persistent User of db.session (the one already there, if any)."""
    session = db.session()
    key = User.__mapper__.identity_key_from_primary_key((row.id,))
    existing = session.identity_map.get(key)
    if existing is not None:
        return existing
    # As a query loads a row: the values go straight into the instance (no change
    # events), then it counts as loaded with its primary key as identity.
    user = USER_CLASS_MANAGER.new_instance()
    user.__dict__.update(
        (name, row[index]) for index, (name, _) in enumerate(USER_FIELDS)
    )
    make_transient_to_detached(user)
    session.add(user)
    return user


def authenticate_request():
    """The access token of the Authorization header, verified, and its session live."""
    if request.method in EXEMPT_METHODS:
        return
    load_principal(verify_access_token(bearer_token()))
    # In the WSGI environ, which is this request's alone (`g` outlives a request
    # when a test holds an app context around several).
    request.environ[PRINCIPAL_CHECKED] = True


def authenticated_user():
    """The caller, once this request's access token was checked; else None."""
    return g.current_user if request.environ.get(PRINCIPAL_CHECKED) else None


def access_token_required(view):
    """A valid access token of a live session, else 401 (or 403 account_disabled)."""

    @wraps(view)
    def checked(*args, **kwargs):
        # Once per request: a rate-limited view is checked before its limits too.
        if not request.environ.get(PRINCIPAL_CHECKED):
            authenticate_request()
        return view(*args, **kwargs)

    return checked
