"""WebAuthn ceremonies on py_webauthn: options, their challenges, verification.

Every byte of a browser's answer is parsed and checked by py_webauthn (CBOR,
attestation, signatures); this module only decides what is expected (RP id,
origins, the challenge row) and turns the library's refusals into API errors.

A challenge is 32 random bytes, kept as a row named by its SHA-256: found again
from the clientDataJSON the authenticator signed, spent by one conditional UPDATE
(exactly one of parallel answers wins), dead after CHALLENGE_TTL seconds.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, update
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    generate_challenge,
    options_to_json_dict,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from app import clock, events
from app.errors import PasskeyChallengeInvalid, PasskeyCloned, PasskeyInvalid
from app.extensions import db
from app.models import PasskeyChallenge
from app.models.passkey import MAX_CREDENTIAL_ID_BYTES

log = logging.getLogger(__name__)

CHALLENGE_TTL = 300
KNOWN_TRANSPORTS = {transport.value for transport in AuthenticatorTransport}


@dataclass(frozen=True)
class NewCredential:
    """A verified registration: what the passkeys table keeps."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    transports: tuple
    aaguid: str
    backup_eligible: bool
    backed_up: bool


@dataclass(frozen=True)
class Assertion:
    """A parsed sign-in answer, before its signature is checked."""

    parsed: object
    credential_id: bytes
    challenge: bytes
    user_handle: bytes | None


@dataclass(frozen=True)
class VerifiedAssertion:
    sign_count: int
    backed_up: bool
    user_verified: bool


def config(name):
    return current_app.config[name]


# Challenges


def digest(challenge):
    return hashlib.sha256(challenge).hexdigest()


def new_challenge(*, purpose, user_id=None, session_id=None, mfa_jti=None):
    """A fresh challenge, its row added to the transaction (the caller commits)."""
    challenge = generate_challenge()
    now = clock.now()
    db.session.add(
        PasskeyChallenge(
            digest=digest(challenge),
            purpose=purpose,
            user_id=user_id,
            session_id=session_id,
            mfa_jti=mfa_jti,
            created_at=now,
            expires_at=now + timedelta(seconds=CHALLENGE_TTL),
        )
    )
    return challenge


def spend_challenge(challenge, *, purpose, user_id=None, session_id=None, mfa_jti=None):
    """Spend the challenge, in the caller's transaction, if it is live and theirs.

    The binding must match exactly: a registration challenge of another user or
    session, or a sign-in challenge handed out for an mfaToken, is refused.
    """
    now = clock.now()
    table = PasskeyChallenge
    bound = [
        column.is_(None) if value is None else column == value
        for column, value in (
            (table.user_id, user_id),
            (table.session_id, session_id),
            (table.mfa_jti, mfa_jti),
        )
    ]
    spent = db.session.execute(
        update(table)
        .where(
            table.digest == digest(challenge),
            table.purpose == purpose,
            table.spent_at.is_(None),
            table.expires_at > now,
            *bound,
        )
        .values(spent_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        raise PasskeyChallengeInvalid()


def purge_challenges():
    """Delete the challenges that expired (`flask auth purge`); how many."""
    result = db.session.execute(
        delete(PasskeyChallenge).where(PasskeyChallenge.expires_at < clock.now())
    )
    db.session.commit()
    return result.rowcount


# Options


def descriptors(passkeys):
    return [
        PublicKeyCredentialDescriptor(
            id=passkey.credential_id,
            transports=[AuthenticatorTransport(t) for t in passkey.transports.split()]
            or None,
        )
        for passkey in passkeys
    ]


def creation_options(*, user, challenge, existing):
    """PublicKeyCredentialCreationOptions (JSON): a discoverable, verified passkey."""
    options = generate_registration_options(
        rp_id=config("WEBAUTHN_RP_ID"),
        rp_name=config("WEBAUTHN_RP_NAME"),
        # The user handle: the account id's 16 bytes (no email, nothing personal).
        user_id=user.id.bytes,
        user_name=user.email,
        user_display_name=user.name,
        challenge=challenge,
        timeout=CHALLENGE_TTL * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=descriptors(existing),
    )
    return options_to_json_dict(options)


def request_options(*, challenge, allowed=()):
    """PublicKeyCredentialRequestOptions (JSON); no allowCredentials: discoverable."""
    options = generate_authentication_options(
        rp_id=config("WEBAUTHN_RP_ID"),
        challenge=challenge,
        timeout=CHALLENGE_TTL * 1000,
        allow_credentials=descriptors(allowed) or None,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json_dict(options)


# Answers. py_webauthn raises its own errors, and builtin ones (TypeError,
# ValueError, KeyError...) on some hostile inputs: any of them is a refusal.


def parse_registration(credential, *, error=PasskeyInvalid):
    """(parsed credential, the challenge its clientDataJSON carries)."""
    try:
        parsed = parse_registration_credential_json(credential)
        challenge = parse_client_data_json(parsed.response.client_data_json).challenge
    except Exception as exc:  # noqa: BLE001 (see above)
        log.info("passkey registration unreadable: %s", exc)
        raise error("The credential is malformed.") from None
    return parsed, challenge


def verify_registration(parsed, *, challenge):
    try:
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=config("WEBAUTHN_RP_ID"),
            expected_origin=config("WEBAUTHN_ORIGINS"),
            require_user_verification=True,
        )
    except Exception as exc:  # noqa: BLE001 (see above)
        log.info("passkey registration refused: %s", exc)
        raise PasskeyInvalid() from None
    if verified.credential_id != parsed.raw_id:
        raise PasskeyInvalid("The credential id is not the one the authenticator made.")
    if len(verified.credential_id) > MAX_CREDENTIAL_ID_BYTES:
        raise PasskeyInvalid("The credential id is too long.")
    transports = parsed.response.transports or []
    return NewCredential(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=tuple(t.value for t in transports if t.value in KNOWN_TRANSPORTS),
        aaguid=verified.aaguid,
        backup_eligible=(
            verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE
        ),
        backed_up=verified.credential_backed_up,
    )


def parse_assertion(credential, *, error):
    """The answer of navigator.credentials.get(), parsed (not yet verified)."""
    try:
        parsed = parse_authentication_credential_json(credential)
        challenge = parse_client_data_json(parsed.response.client_data_json).challenge
    except Exception as exc:  # noqa: BLE001 (see above)
        log.info("passkey assertion unreadable: %s", exc)
        raise error("The credential is malformed.") from None
    if len(parsed.raw_id) > MAX_CREDENTIAL_ID_BYTES:
        raise error("The credential id is too long.")
    return Assertion(
        parsed=parsed,
        credential_id=parsed.raw_id,
        challenge=challenge,
        user_handle=parsed.response.user_handle or None,
    )


def cloned(stored, presented):
    """A counter that did not move forward, where the authenticator keeps one."""
    return (stored > 0 or presented > 0) and presented <= stored


def verify_assertion(assertion, *, passkey, error):
    """Check the signature with the passkey's key, then its counter (clones)."""
    if assertion.user_handle is not None and assertion.user_handle != (
        passkey.user_id.bytes
    ):
        raise error("The passkey does not belong to this account.")
    try:
        verified = verify_authentication_response(
            credential=assertion.parsed,
            expected_challenge=assertion.challenge,
            expected_rp_id=config("WEBAUTHN_RP_ID"),
            expected_origin=config("WEBAUTHN_ORIGINS"),
            credential_public_key=passkey.public_key,
            # The counter is compared below, after the signature: only a genuine
            # answer of this key can say that a copy of it is in use.
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except Exception as exc:  # noqa: BLE001 (see above)
        log.info("passkey assertion refused: %s", exc)
        raise error() from None
    if cloned(passkey.sign_count, verified.new_sign_count):
        raise PasskeyCloned(user_id=passkey.user_id, passkey_id=passkey.id)
    return VerifiedAssertion(
        sign_count=verified.new_sign_count,
        backed_up=verified.credential_backed_up,
        user_verified=verified.user_verified,
    )


def record_use(passkey, verified):
    """A verified sign-in: the new counter, backup state and time of use."""
    passkey.sign_count = verified.sign_count
    passkey.backed_up = verified.backed_up
    passkey.last_used_at = clock.now()


def record_clone(cloned):
    """A cloned passkey's sign-in was refused: its audit row commits on its own."""
    db.session.rollback()
    events.emit(
        events.PASSKEY_CLONE_DETECTED,
        user_id=str(cloned.user_id),
        passkey_id=str(cloned.passkey_id),
    )
    db.session.commit()
