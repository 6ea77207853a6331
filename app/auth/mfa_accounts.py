"""The account an mfaToken is about, for the rate limits of the login's second step."""

import uuid

from sqlalchemy import select

from app.auth.tokens import verify_mfa_token
from app.database import read_connection
from app.errors import ApiError
from app.models import User

USERS = User.__table__


def mfa_token_email(encoded):
    """The email of a valid mfaToken's account, else None (its view answers 401)."""
    try:
        user_id = uuid.UUID(verify_mfa_token(encoded)["sub"])
    except (ApiError, ValueError):
        return None
    with read_connection() as connection:
        return connection.execute(
            select(USERS.c.email).where(USERS.c.id == user_id)
        ).scalar()
