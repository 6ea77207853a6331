"""Passkeys: register, list, remove, and passwordless sign-in.

The WebAuthn work (options, challenges, verification) is app/auth/passkey_ceremony.py;
these services decide who may do what and own their transaction. The second factor
of a login with a passkey is app/auth/mfa.py's, on the same ceremony.
"""

import uuid

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import clock, events
from app.auth import account_mail, alerts, devices, mfa
from app.auth import passkey_ceremony as ceremony
from app.auth.restore import restore_if_deletion_pending
from app.auth.sessions import open_session
from app.errors import (
    AccountDisabled,
    EmailUnverified,
    PasskeyCloned,
    PasskeyExists,
    PasskeyNotFound,
    PasskeySignInRefused,
    UnknownPasskey,
)
from app.extensions import db
from app.models import Passkey, User
from app.models.passkey import CHALLENGE_LOGIN, CHALLENGE_REGISTER

# RFC 8176: proof of a hardware-bound key, and the user verified by the authenticator.
PASSKEY_SESSION_AMR = "hwk user"


def passkeys_of(user_id):
    return db.session.scalars(
        select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.created_at)
    ).all()


def count_passkeys(user_id):
    return db.session.scalar(
        select(func.count()).select_from(Passkey).where(Passkey.user_id == user_id)
    )


def find_passkey(credential_id):
    return db.session.scalar(
        select(Passkey).where(Passkey.credential_id == credential_id)
    )


# Registration (a signed-in caller; a recent second factor when MFA is on)


def registration_options(*, user, session_id, claims):
    """Creation options for a new passkey of the caller; its challenge is stored."""
    mfa.require_recent_factor(user=user, claims=claims)
    existing = passkeys_of(user.id)
    challenge = ceremony.new_challenge(
        purpose=CHALLENGE_REGISTER, user_id=user.id, session_id=session_id
    )
    options = ceremony.creation_options(
        user=user, challenge=challenge, existing=existing
    )
    db.session.commit()
    return options


def register(*, user, session_id, claims, credential, name, device):
    """Verify the authenticator's answer and keep the passkey; a notice is mailed."""
    mfa.require_recent_factor(user=user, claims=claims)
    parsed, challenge = ceremony.parse_registration(credential)
    try:
        ceremony.spend_challenge(
            challenge,
            purpose=CHALLENGE_REGISTER,
            user_id=user.id,
            session_id=session_id,
        )
        new = ceremony.verify_registration(parsed, challenge=challenge)
        if find_passkey(new.credential_id) is not None:
            raise PasskeyExists()
        passkey = Passkey(
            user_id=user.id,
            credential_id=new.credential_id,
            public_key=new.public_key,
            sign_count=new.sign_count,
            transports=" ".join(new.transports),
            aaguid=new.aaguid,
            backup_eligible=new.backup_eligible,
            backed_up=new.backed_up,
            name=name,
            created_at=clock.now(),
        )
        db.session.add(passkey)
        db.session.flush()
    except IntegrityError:
        # A parallel registration of the same authenticator won the unique index.
        db.session.rollback()
        raise PasskeyExists() from None
    except Exception:
        db.session.rollback()
        raise
    account_mail.queue_passkey_changed(user=user, added=True, name=name, device=device)
    events.emit(events.PASSKEY_ADDED, user_id=str(user.id), passkey_id=str(passkey.id))
    db.session.commit()
    return passkey


def list_passkeys(*, user_id):
    return passkeys_of(user_id)


def remove(*, user, passkey_id, device):
    """Delete one of the caller's passkeys (another user's: 404); mail a notice."""
    try:
        wanted = uuid.UUID(str(passkey_id))
    except ValueError:
        raise PasskeyNotFound() from None
    passkey = db.session.scalar(
        select(Passkey).where(Passkey.id == wanted, Passkey.user_id == user.id)
    )
    if passkey is None:
        db.session.rollback()
        raise PasskeyNotFound()
    name = passkey.name
    db.session.delete(passkey)
    account_mail.queue_passkey_changed(user=user, added=False, name=name, device=device)
    events.emit(events.PASSKEY_REMOVED, user_id=str(user.id), passkey_id=str(wanted))
    db.session.commit()


# Passwordless sign-in


def login_options():
    """Request options for a discoverable passkey: no email asked, none revealed."""
    challenge = ceremony.new_challenge(purpose=CHALLENGE_LOGIN)
    options = ceremony.request_options(challenge=challenge)
    db.session.commit()
    return options


def login(*, credential, device_token, transport, user_agent, ip):
    """Sign in with a passkey: (user, session, device token), as a login answers.

    Passkeys with user verification are two factors in one (the device and the
    user's PIN or biometric): an account with TOTP on is not asked for a code.
    """
    assertion = ceremony.parse_assertion(credential, error=PasskeySignInRefused)
    try:
        ceremony.spend_challenge(assertion.challenge, purpose=CHALLENGE_LOGIN)
        passkey = find_passkey(assertion.credential_id)
        if passkey is None:
            raise UnknownPasskey()
        user = db.session.get(User, passkey.user_id, with_for_update=True)
        verified = ceremony.verify_assertion(
            assertion, passkey=passkey, error=PasskeySignInRefused
        )
        if not user.is_active:
            raise AccountDisabled()
        # As a password login: the passkey proved who it is, so the owner may learn it.
        if current_app.config["REQUIRE_EMAIL_VERIFICATION"] and (
            user.email_verified_at is None
        ):
            raise EmailUnverified()
    except PasskeyCloned as cloned:
        ceremony.record_clone(cloned)
        raise
    except Exception:
        db.session.rollback()
        raise
    ceremony.record_use(passkey, verified)
    user_session = open_session(
        user=user, transport=transport, user_agent=user_agent, ip=ip
    )
    user_session.amr = PASSKEY_SESSION_AMR
    restore_if_deletion_pending(user)
    device_id, new_device = devices.device_of_login(user=user, presented=device_token)
    if new_device:
        alerts.queue_new_sign_in(user=user, user_agent=user_agent, ip=ip)
    events.emit(
        events.PASSKEY_SIGN_IN,
        user_id=str(user.id),
        session_id=str(user_session.id),
        passkey_id=str(passkey.id),
        device=device_id,
        new_device=new_device,
    )
    db.session.commit()
    device_token = devices.mint_device_token(user=user, device_id=device_id)
    return user, user_session, device_token
