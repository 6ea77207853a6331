"""Provider identities and our accounts: find, create, link automatically, unlink.

An identity (provider, sub) signs in to the one account it is linked to. A first
sign-in creates an account, unless the provider's email belongs to an account
already: that one is linked only when both the provider and we have verified the
email, else the owner must sign in and link from the settings (a provider account
made with someone else's unverified email cannot take over theirs, nor an account
registered with an email first).
"""

import uuid
from contextlib import contextmanager

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import clock, events
from app.auth.services import find_user_by_email
from app.errors import (
    AccountDisabled,
    AccountExists,
    IdentityInUse,
    LastSignInMethod,
    NotFound,
    ProviderDenied,
)
from app.extensions import db
from app.models import Identity, User

# No password verifies against it: the account signs in through its providers only.
NO_PASSWORD = ""


def has_password(user):
    return bool(user.password_hash)


def identity_of(provider, subject):
    return db.session.scalar(
        select(Identity).where(
            Identity.provider == provider, Identity.subject == subject
        )
    )


def add_identity(*, user, provider, profile, now):
    identity = Identity(
        user_id=user.id,
        provider=provider,
        subject=profile.subject,
        email=profile.email,
        created_at=now,
        last_sign_in_at=now,
    )
    db.session.add(identity)
    return identity


@contextmanager
def identity_must_be_free():
    """A parallel sign-in or link that won a unique index: 409, nothing written."""
    try:
        yield
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise IdentityInUse() from None


def account_for(*, provider, profile):
    """The account this provider sign-in opens (added to the transaction)."""
    now = clock.now()
    identity = identity_of(provider, profile.subject)
    if identity is not None:
        user = db.session.get(User, identity.user_id)
        if not user.is_active:
            raise AccountDisabled()
        identity.last_sign_in_at = now
        if profile.email:
            identity.email = profile.email
        return user
    if not profile.email:
        raise ProviderDenied("The provider shared no email address.")
    user = find_user_by_email(profile.email)
    if user is not None:
        if not (profile.email_verified and user.email_verified):
            raise AccountExists()
        if not user.is_active:
            raise AccountDisabled()
        with identity_must_be_free():
            add_identity(user=user, provider=provider, profile=profile, now=now)
        events.emit(
            events.IDENTITY_LINKED,
            user_id=str(user.id),
            provider=provider,
            how="verified_email",
        )
        return user
    user = User(
        name=profile.name,
        email=profile.email,
        password_hash=NO_PASSWORD,
        email_verified_at=now if profile.email_verified else None,
        created_at=now,
        updated_at=now,
        password_changed_at=now,
    )
    db.session.add(user)
    with identity_must_be_free():
        db.session.flush()
        add_identity(user=user, provider=provider, profile=profile, now=now)
    events.emit(
        events.IDENTITY_LINKED,
        user_id=str(user.id),
        provider=provider,
        how="new_account",
    )
    return user


def link_to(*, user_id, provider, profile):
    """Link this provider account to the signed-in user who asked (transaction)."""
    user = db.session.get(User, uuid.UUID(user_id))
    if user is None or not user.is_active:
        raise AccountDisabled()
    identity = identity_of(provider, profile.subject)
    if identity is not None:
        if identity.user_id != user.id:
            raise IdentityInUse()
        identity.last_sign_in_at = clock.now()
        return user
    with identity_must_be_free():
        add_identity(user=user, provider=provider, profile=profile, now=clock.now())
    events.emit(
        events.IDENTITY_LINKED, user_id=str(user.id), provider=provider, how="settings"
    )
    return user


def list_identities(*, user):
    return db.session.scalars(
        select(Identity)
        .where(Identity.user_id == user.id)
        .order_by(Identity.created_at, Identity.provider)
    ).all()


def unlink(*, user, provider):
    """Remove the user's identity of `provider`; never the last way to sign in."""
    identity = db.session.scalar(
        select(Identity)
        .where(Identity.user_id == user.id, Identity.provider == provider)
        .with_for_update()
    )
    if identity is None:
        db.session.rollback()
        raise NotFound("No identity of this provider is linked.")
    # Locks the user's row: two parallel unlinks cannot both see a second identity.
    locked = db.session.get(User, user.id, with_for_update=True, populate_existing=True)
    others = db.session.scalar(
        select(func.count())
        .select_from(Identity)
        .where(Identity.user_id == user.id, Identity.id != identity.id)
    )
    if not has_password(locked) and others == 0:
        db.session.rollback()
        raise LastSignInMethod()
    db.session.delete(identity)
    events.emit(events.IDENTITY_UNLINKED, user_id=str(user.id), provider=provider)
    db.session.commit()
