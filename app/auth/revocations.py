"""The revocation feed's store: every revoked session, until its tokens expire.

`claim_cursor` and `record` are called by app/auth/sessions.py's two revoking
functions (the only places a session is revoked), inside the caller's transaction.
`read_since` answers the feed from the database, so every host answers the same.
"""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, insert, select, update

from app import clock
from app.database import read_connection
from app.extensions import db
from app.models.revocation import HEAD_ROW_ID, Revocation, RevocationHead

REVOCATIONS = Revocation.__table__
HEAD = RevocationHead.__table__
# Verifiers accept a token a little past its `exp` (clock skew): keep entries longer.
EXPIRY_LEEWAY = timedelta(seconds=60)
BUMP_HEAD = (
    update(HEAD).where(HEAD.c.id == HEAD_ROW_ID).values(cursor=HEAD.c.cursor + 1)
)
HEAD_QUERY = select(HEAD.c.cursor).where(HEAD.c.id == HEAD_ROW_ID)
ENTRIES_QUERY = (
    select(REVOCATIONS.c.cursor, REVOCATIONS.c.session_id, REVOCATIONS.c.expires_at)
    .where(
        REVOCATIONS.c.cursor > bindparam("since"),
        REVOCATIONS.c.expires_at > bindparam("now"),
    )
    .order_by(REVOCATIONS.c.cursor, REVOCATIONS.c.id)
)


@dataclass(frozen=True)
class Entry:
    session_id: str
    until: int  # epoch seconds after which no access token of the session is valid


@dataclass(frozen=True)
class FeedState:
    since: int
    cursor: int
    entries: tuple


def claim_cursor():
    """The cursor of this transaction's revocations (locks the head until commit).

    Called before the sessions are updated: every revoking transaction takes the
    same lock first, so two of them never wait on each other's rows.
    """
    connection = db.session.connection()
    connection.execute(BUMP_HEAD)
    return connection.execute(HEAD_QUERY).scalar_one()


def record(*, cursor, revoked, revoked_at):
    """Feed rows for the revoked sessions: (session id, session expiry) pairs."""
    ttl = timedelta(seconds=current_app.config["ACCESS_TOKEN_TTL"])
    rows = [
        {
            "cursor": cursor,
            "session_id": session_id,
            "revoked_at": revoked_at,
            # The last access token was minted at revocation or session end at latest.
            "expires_at": min(revoked_at, session_expires_at) + ttl + EXPIRY_LEEWAY,
        }
        for session_id, session_expires_at in revoked
    ]
    rows = [row for row in rows if row["expires_at"] > revoked_at]
    connection = db.session.connection()
    if rows:
        connection.execute(insert(REVOCATIONS), rows)
    connection.execute(
        delete(REVOCATIONS).where(REVOCATIONS.c.expires_at <= revoked_at)
    )


def current_cursor(connection):
    return connection.execute(HEAD_QUERY).scalar() or 0


def read_since(*, since):
    """The live entries after `since`, and the cursor to ask from next.

    The head is read first: every cursor up to it is committed (see the model), so
    it is a safe next cursor; entries committed meanwhile come along too. None when
    `since` is past the head (a cursor from the future or another database).
    """
    with read_connection() as connection:
        head = current_cursor(connection)
        if since > head:
            return None
        rows = connection.execute(
            ENTRIES_QUERY, {"since": since, "now": clock.now()}
        ).all()
    cursor = max([head, *(row.cursor for row in rows)])
    entries = tuple(
        Entry(session_id=str(row.session_id), until=int(row.expires_at.timestamp()))
        for row in rows
    )
    return FeedState(since=since, cursor=cursor, entries=entries)


def head_cursor():
    with read_connection() as connection:
        return current_cursor(connection)
