"""Account services: register and log in."""

from contextlib import contextmanager

from flask import current_app
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from app import clock, events
from app.auth import alerts, devices, email_verification, mfa, passwords
from app.auth.restore import restore_if_deletion_pending
from app.auth.sessions import open_session
from app.database import read_connection
from app.errors import (
    AccountDisabled,
    EmailTaken,
    EmailUnverified,
    InvalidCredentials,
)
from app.extensions import db
from app.models import User

USERS = User.__table__
CREDENTIALS_QUERY = select(
    USERS.c.id,
    USERS.c.password_hash,
    USERS.c.is_active,
    USERS.c.mfa_enabled_at,
    USERS.c.email_verified_at,
).where(func.lower(USERS.c.email) == bindparam("email"))


def find_user_by_email(email):
    return db.session.scalar(
        select(User).where(func.lower(User.email) == email.lower())
    )


def add_account(*, name, email, password, verified=False):
    """A new user after the policy and email checks (added, not committed)."""
    passwords.check_policy(password, email=email)
    # Hashed before the first query: the transaction (on SQLite, the write lock)
    # begins after the slow part.
    password_hash = passwords.hash_password(
        password, current_app.config["BCRYPT_ROUNDS"]
    )
    if find_user_by_email(email) is not None:
        raise EmailTaken()
    now = clock.now()
    user = User(
        name=name,
        email=email,
        password_hash=password_hash,
        email_verified_at=now if verified else None,
        created_at=now,
        updated_at=now,
        password_changed_at=now,
    )
    db.session.add(user)
    return user


@contextmanager
def email_must_be_free():
    """Turn the unique index's refusal into 409 email_taken."""
    try:
        yield
    except IntegrityError:
        # A parallel registration won the unique index: same answer as the pre-check.
        db.session.rollback()
        raise EmailTaken() from None


def register_account(*, name, email, password):
    """Create an account without a session (clients that log in next); 409 if taken."""
    user = add_account(name=name, email=email, password=password)
    with email_must_be_free():
        db.session.flush()
        events.emit(events.REGISTERED, user_id=str(user.id))
        db.session.commit()
    return user


def register_user(*, name, email, password, transport, user_agent, ip, rotating=True):
    """Create an account, its first session and a device token of a new device.

    The verification link is mailed in the same transaction. 409 when the email is
    taken.
    """
    user = add_account(name=name, email=email, password=password)
    with email_must_be_free():
        db.session.flush()
        user_session = open_session(
            user=user,
            transport=transport,
            user_agent=user_agent,
            ip=ip,
            rotating=rotating,
        )
        email_verification.queue_verification(user=user)
        events.emit(
            events.REGISTERED, user_id=str(user.id), session_id=str(user_session.id)
        )
        db.session.commit()
    device_token = devices.mint_device_token(
        user=user, device_id=devices.new_device_id()
    )
    return user, user_session, device_token


def login_failed(account, *, reason):
    """A refused login of a known account: its audit row, in a transaction of its own.

    Unknown emails get a log line and a count only: a row about no account answers
    nothing, and would let anyone fill the table.
    """
    events.emit(events.LOGIN_FAILED, reason=reason, user_id=str(account.id))
    db.session.commit()


def authenticate(
    *, email, password, device_token, transport, user_agent, ip, rotating=True
):
    """Check credentials, open a session, renew the device token; one generic 401.

    An account with two-factor sign-in gets no session yet: the answer is an
    `mfa.Challenge` (its mfaToken), and /mfa/verify opens the session.

    `device_token`: the one the client presented (or None); a valid one of this
    account keeps its device id, anything else gets a new device. `rotating`: see
    `open_session`.

    The credentials are read on a read-only connection: bcrypt runs outside the
    transaction that opens the session (on SQLite, without the write lock).
    """
    rounds = current_app.config["BCRYPT_ROUNDS"]
    with read_connection() as connection:
        account = connection.execute(
            CREDENTIALS_QUERY, {"email": email.lower()}
        ).first()
    if account is None:
        # Same bcrypt work as a wrong password: timing does not reveal accounts.
        passwords.burn_verify_time(password, rounds)
        events.emit(events.LOGIN_FAILED, reason="unknown_account")
        raise InvalidCredentials()
    if not account.password_hash:
        # An account of a provider sign-in has no password until it sets one.
        passwords.burn_verify_time(password, rounds)
        login_failed(account, reason="no_password")
        raise InvalidCredentials()
    if not passwords.verify_password(password, account.password_hash):
        login_failed(account, reason="wrong_password")
        raise InvalidCredentials()
    if not account.is_active:
        login_failed(account, reason="account_disabled")
        raise AccountDisabled()
    # After the password check: only the owner learns the address is unconfirmed.
    if current_app.config["REQUIRE_EMAIL_VERIFICATION"] and (
        account.email_verified_at is None
    ):
        raise EmailUnverified()
    new_hash = None
    if passwords.needs_rehash(account.password_hash, rounds):
        new_hash = passwords.hash_password(password, rounds)
    # The row again, locked, in the transaction that opens the session: a reset or a
    # deactivation that committed while bcrypt ran must not let the old password in.
    user = db.session.get(
        User, account.id, with_for_update=True, populate_existing=True
    )
    if user is None or user.password_hash != account.password_hash:
        db.session.rollback()
        raise InvalidCredentials()
    if not user.is_active:
        db.session.rollback()
        raise AccountDisabled()
    if new_hash is not None:
        user.password_hash = new_hash
    if account.mfa_enabled_at is not None:
        return second_factor_challenge(
            user=user, device_token=device_token, transport=transport
        )
    user_session = open_session(
        user=user, transport=transport, user_agent=user_agent, ip=ip, rotating=rotating
    )
    restore_if_deletion_pending(user)
    device_id, new_device = devices.device_of_login(user=user, presented=device_token)
    if new_device:
        alerts.queue_new_sign_in(user=user, user_agent=user_agent, ip=ip)
    events.emit(
        events.LOGIN_OK,
        user_id=str(user.id),
        session_id=str(user_session.id),
        device=device_id,
        new_device=new_device,
    )
    db.session.commit()
    device_token = devices.mint_device_token(user=user, device_id=device_id)
    return user, user_session, device_token


def second_factor_challenge(*, user, device_token, transport, first_factor="pwd"):
    """The first factor was right; the session waits for the second factor."""
    device_id, new_device = devices.device_of_login(user=user, presented=device_token)
    challenge = mfa.begin_challenge(
        user=user,
        transport=transport,
        device_id=device_id,
        new_device=new_device,
        first_factor=first_factor,
    )
    db.session.commit()
    events.emit(events.MFA_CHALLENGED, user_id=str(user.id), device=device_id)
    return challenge
