"""Two-factor sign-in with TOTP: enrolment, the login's second step, step-up, disable.

The login's second step is an `MfaChallenge` row named by the mfaToken's jti: spent
by one conditional UPDATE (exactly one of parallel verifies wins), dead after
MAX_CHALLENGE_FAILURES wrong codes, bound to the transport the login asked for.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update

from app import clock, events
from app.auth import account_mail, alerts, devices, passwords, sessions, totp
from app.auth import passkey_ceremony as ceremony
from app.auth.restore import restore_if_deletion_pending
from app.auth.secret_box import seal, unseal
from app.auth.tokens import (
    SECOND_FACTOR_AMR,
    mint_mfa_token,
    new_jti,
    verify_mfa_token,
)
from app.database import read_connection
from app.errors import (
    AccountDisabled,
    InvalidMfaCode,
    MfaAlreadyEnabled,
    MfaNotEnabled,
    MfaNotPending,
    MfaRequired,
    NoPasskeys,
    PasskeyChallengeInvalid,
    PasskeyCloned,
    ReauthenticationRequired,
    TokenExpired,
    TokenInvalid,
    WrongMfaCode,
    WrongOldPassword,
)
from app.extensions import db
from app.models import (
    MfaChallenge,
    Passkey,
    RecoveryCode,
    TotpCredential,
    User,
    UserSession,
)
from app.models.passkey import CHALLENGE_MFA

METHODS = ("totp", "recovery_code")
# Offered too when the account has a passkey (POST /mfa/passkey/options).
PASSKEY_METHOD = "webauthn"
MAX_CHALLENGE_FAILURES = 5
RECOVERY_CODE_COUNT = 10
# 16 base32 characters: 80 random bits, so a plain SHA-256 of one is safe to store.
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
RECOVERY_GROUPS = 4
SECOND_FACTOR_SESSION_AMR = "pwd otp"
CHALLENGES = MfaChallenge.__table__
USERS = User.__table__


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


@dataclass(frozen=True)
class Challenge:
    """The answer of a password login that still needs its second factor."""

    mfa_token: str
    mfa_token_expires_in: int
    methods: tuple = METHODS
    mfa_required: bool = True


# Enrolment


def mfa_failed(user_id, *, step):
    """A wrong second factor: its audit row commits on its own (what failed stays)."""
    events.emit(events.MFA_FAILED, user_id=str(user_id), step=step)
    db.session.commit()


# The amr of a session opened by a provider sign-in (app/oauth).
FEDERATED_AMR = "fed"


def check_password(user, password, claims):
    """The current password; an account without one (made by a provider sign-in)
    shows instead a provider sign-in or a second factor within MFA_STEP_UP_TTL."""
    if not user.password_hash:
        if not (recent_provider_sign_in(claims) or has_recent_factor(claims)):
            raise ReauthenticationRequired()
        return
    if not passwords.verify_password(password, user.password_hash):
        raise WrongOldPassword()


def recent_provider_sign_in(claims):
    amr = claims.get("amr")
    auth_time = claims.get("auth_time")
    if not isinstance(amr, list) or not isinstance(auth_time, int):
        return False
    age = clock.now().timestamp() - auth_time
    return FEDERATED_AMR in amr and age <= current_app.config["MFA_STEP_UP_TTL"]


def start_setup(*, user, password, claims):
    """A new pending secret (replacing a pending one); nothing is active yet."""
    check_password(user, password, claims)
    if user.mfa_enabled:
        raise MfaAlreadyEnabled()
    secret = totp.new_secret()
    key_id, sealed = seal(secret, context=user.id.bytes)
    db.session.execute(delete(TotpCredential).where(TotpCredential.user_id == user.id))
    db.session.add(
        TotpCredential(
            user_id=user.id,
            secret_ciphertext=sealed,
            key_id=key_id,
            created_at=clock.now(),
        )
    )
    db.session.commit()
    uri = totp.provisioning_uri(
        secret, issuer=current_app.config["MFA_ISSUER"], account=user.email
    )
    return Enrolment(
        secret=totp.secret_text(secret), otpauth_uri=uri, qr_svg=totp.qr_svg(uri)
    )


def confirm_setup(*, user, code, device):
    """Activate the pending secret with a valid code; the recovery codes, once."""
    if user.mfa_enabled:
        raise MfaAlreadyEnabled()
    credential = db.session.get(TotpCredential, user.id)
    if credential is None or credential.confirmed_at is not None:
        db.session.rollback()
        raise MfaNotPending()
    spend_totp_code(credential, code, error=WrongMfaCode)
    now = clock.now()
    credential.confirmed_at = now
    user.mfa_enabled_at = now
    user.updated_at = now
    codes = replace_recovery_codes(user.id)
    account_mail.queue_mfa_changed(user=user, enabled=True, device=device)
    events.emit(events.MFA_ENABLED, user_id=str(user.id))
    db.session.commit()
    return codes


# Second factors


def recovery_code_hash(code):
    normalised = code.replace("-", "").lower()
    return hashlib.sha256(normalised.encode("ascii")).hexdigest()


def new_recovery_code():
    text = "".join(
        secrets.choice(RECOVERY_ALPHABET) for _ in range(4 * RECOVERY_GROUPS)
    )
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def replace_recovery_codes(user_id):
    """A new set of recovery codes (the old ones die); only hashes are stored."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    now = clock.now()
    db.session.add_all(
        RecoveryCode(
            user_id=user_id, code_hash=recovery_code_hash(code), created_at=now
        )
        for code in codes
    )
    return codes


def spend_totp_code(credential, code, *, error):
    """Accept `code` once: its step must be newer than the last one accepted.

    The conditional UPDATE decides between parallel requests with one code.
    """
    secret = unseal(
        credential.key_id,
        credential.secret_ciphertext,
        context=credential.user_id.bytes,
    )
    step = totp.matching_step(secret, code, last_used_step=credential.last_used_step)
    if step is None:
        raise error()
    result = db.session.execute(
        update(TotpCredential)
        .where(
            TotpCredential.user_id == credential.user_id,
            (TotpCredential.last_used_step.is_(None))
            | (TotpCredential.last_used_step < step),
        )
        .values(last_used_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise error()
    credential.last_used_step = step


def spend_recovery_code(user_id, code, *, error):
    result = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == recovery_code_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise error()


def spend_second_factor(user_id, *, code=None, recovery_code=None, error):
    """Check and spend a TOTP code or a recovery code (in the caller's transaction).

    Any failure raises `error` with nothing written; the caller rolls back.
    """
    credential = db.session.get(TotpCredential, user_id)
    if credential is None or credential.confirmed_at is None:
        raise error()
    if recovery_code is not None:
        spend_recovery_code(user_id, recovery_code, error=error)
    else:
        spend_totp_code(credential, code, error=error)


def passkeys_of(user_id):
    return db.session.scalars(select(Passkey).where(Passkey.user_id == user_id)).all()


def has_passkeys(user_id):
    return bool(
        db.session.scalar(
            select(func.count()).select_from(Passkey).where(Passkey.user_id == user_id)
        )
    )


def spend_passkey(challenge, credential):
    """Check and spend a passkey's answer to this login's challenge.

    Any failure is InvalidMfaCode (a wrong second factor, counted as one), except a
    cloned authenticator: PasskeyCloned, for its security event.
    """
    assertion = ceremony.parse_assertion(credential, error=InvalidMfaCode)
    try:
        ceremony.spend_challenge(
            assertion.challenge,
            purpose=CHALLENGE_MFA,
            user_id=challenge.user_id,
            mfa_jti=challenge.jti,
        )
    except PasskeyChallengeInvalid as refused:
        raise InvalidMfaCode(refused.message) from None
    passkey = db.session.scalar(
        select(Passkey).where(
            Passkey.credential_id == assertion.credential_id,
            Passkey.user_id == challenge.user_id,
        )
    )
    if passkey is None:
        raise InvalidMfaCode("This passkey is not one of this account's.")
    verified = ceremony.verify_assertion(
        assertion, passkey=passkey, error=InvalidMfaCode
    )
    ceremony.record_use(passkey, verified)


# Login


def begin_challenge(*, user, transport, device_id, new_device, first_factor="pwd"):
    """Add the login's challenge to the transaction; its mfaToken (caller commits).

    `first_factor`: the amr of the step before ("pwd", or "fed" for a provider).
    """
    ttl = current_app.config["MFA_TOKEN_TTL"]
    jti = new_jti()
    now = clock.now()
    db.session.add(
        MfaChallenge(
            jti=jti,
            user_id=user.id,
            transport=transport,
            device_id=device_id,
            new_device=new_device,
            first_factor=first_factor,
            failures=0,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    token = mint_mfa_token(subject=str(user.id), jti=jti, ttl=ttl)
    methods = METHODS + ((PASSKEY_METHOD,) if has_passkeys(user.id) else ())
    return Challenge(mfa_token=token, mfa_token_expires_in=ttl, methods=methods)


def live_challenge(claims, transport):
    """The challenge of a verified mfaToken, if it can still be answered; else 401."""
    with read_connection() as connection:
        row = connection.execute(
            select(CHALLENGES, USERS.c.is_active)
            .select_from(CHALLENGES.join(USERS, USERS.c.id == CHALLENGES.c.user_id))
            .where(CHALLENGES.c.jti == claims["jti"])
        ).first()
    if row is None or str(row.user_id) != claims["sub"]:
        raise TokenInvalid()
    if row.spent_at is not None or row.failures >= MAX_CHALLENGE_FAILURES:
        raise TokenInvalid()
    if row.transport != transport:
        raise TokenInvalid(f"This sign-in continues by {row.transport} transport.")
    if row.expires_at <= clock.now():
        raise TokenExpired()
    if not row.is_active:
        raise AccountDisabled()
    return row


def count_failure(jti):
    db.session.execute(
        update(MfaChallenge)
        .where(MfaChallenge.jti == jti)
        .values(failures=MfaChallenge.failures + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def passkey_options(*, mfa_token, transport):
    """Request options for the login's second factor, limited to the account's
    passkeys; the challenge is bound to this mfaToken."""
    claims = verify_mfa_token(mfa_token)
    challenge = live_challenge(claims, transport)
    allowed = passkeys_of(challenge.user_id)
    if not allowed:
        raise NoPasskeys()
    passkey_challenge = ceremony.new_challenge(
        purpose=CHALLENGE_MFA, user_id=challenge.user_id, mfa_jti=challenge.jti
    )
    options = ceremony.request_options(challenge=passkey_challenge, allowed=allowed)
    db.session.commit()
    return options


def verify_login(
    *, mfa_token, code, recovery_code, transport, user_agent, ip, credential=None
):
    """The login's second step: (user, session, device token), as a login answers.

    The factor: a TOTP `code`, a `recovery_code` or a passkey's `credential`.
    """
    claims = verify_mfa_token(mfa_token)
    challenge = live_challenge(claims, transport)
    now = clock.now()
    spent = db.session.execute(
        update(MfaChallenge)
        .where(
            MfaChallenge.jti == challenge.jti,
            MfaChallenge.spent_at.is_(None),
            MfaChallenge.failures < MAX_CHALLENGE_FAILURES,
        )
        .values(spent_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        db.session.rollback()
        raise TokenInvalid()
    try:
        if credential is not None:
            spend_passkey(challenge, credential)
        else:
            spend_second_factor(
                challenge.user_id,
                code=code,
                recovery_code=recovery_code,
                error=InvalidMfaCode,
            )
    except PasskeyCloned as cloned:
        db.session.rollback()
        count_failure(challenge.jti)
        ceremony.record_clone(cloned)
        raise
    except InvalidMfaCode:
        db.session.rollback()
        count_failure(challenge.jti)
        mfa_failed(challenge.user_id, step="login")
        raise
    user = db.session.get(User, challenge.user_id)
    user_session = sessions.open_session(
        user=user, transport=transport, user_agent=user_agent, ip=ip
    )
    if credential is not None:
        user_session.amr = f"{challenge.first_factor} hwk"
        method = PASSKEY_METHOD
    else:
        user_session.amr = f"{challenge.first_factor} otp"
        method = "recovery_code" if recovery_code is not None else "totp"
    user_session.auth_time = now
    restore_if_deletion_pending(user)
    events.emit(
        events.LOGIN_OK,
        user_id=str(user.id),
        session_id=str(user_session.id),
        device=challenge.device_id,
        new_device=challenge.new_device,
        mfa=method,
    )
    db.session.commit()
    device_token = devices.mint_device_token(user=user, device_id=challenge.device_id)
    return user, user_session, device_token


# Signed-in callers


def has_recent_factor(claims):
    amr = claims.get("amr")
    auth_time = claims.get("auth_time")
    if not isinstance(amr, list) or not isinstance(auth_time, int):
        return False
    age = clock.now().timestamp() - auth_time
    return bool(SECOND_FACTOR_AMR.intersection(amr)) and (
        age <= current_app.config["MFA_STEP_UP_TTL"]
    )


def require_recent_factor(*, user, claims):
    """403 mfa_required unless MFA is off or the token shows a recent second factor."""
    if user.mfa_enabled and not has_recent_factor(claims):
        raise MfaRequired()


def step_up(*, user, session_id, code, recovery_code):
    """Record a second factor on the caller's session; the session, for new tokens."""
    if not user.mfa_enabled:
        raise MfaNotEnabled()
    try:
        spend_second_factor(
            user.id, code=code, recovery_code=recovery_code, error=WrongMfaCode
        )
    except WrongMfaCode:
        db.session.rollback()
        mfa_failed(user.id, step="step_up")
        raise
    user_session = db.session.get(UserSession, session_id)
    user_session.amr = SECOND_FACTOR_SESSION_AMR
    user_session.auth_time = clock.now()
    events.emit(events.MFA_STEPPED_UP, user_id=str(user.id))
    db.session.commit()
    return user_session


def regenerate_recovery_codes(*, user, code):
    """A new set of recovery codes, for a current TOTP code."""
    if not user.mfa_enabled:
        raise MfaNotEnabled()
    try:
        spend_second_factor(user.id, code=code, error=WrongMfaCode)
    except WrongMfaCode:
        db.session.rollback()
        mfa_failed(user.id, step="recovery_codes")
        raise
    codes = replace_recovery_codes(user.id)
    events.emit(events.RECOVERY_CODES_REGENERATED, user_id=str(user.id))
    db.session.commit()
    return codes


def disable(*, user, session_id, claims, password, code, recovery_code, device):
    """Turn MFA off (password and a second factor); the other sessions end."""
    check_password(user, password, claims)
    if not user.mfa_enabled:
        raise MfaNotEnabled()
    try:
        spend_second_factor(
            user.id, code=code, recovery_code=recovery_code, error=WrongMfaCode
        )
    except WrongMfaCode:
        db.session.rollback()
        mfa_failed(user.id, step="disable")
        raise
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(TotpCredential).where(TotpCredential.user_id == user.id))
    now = clock.now()
    user.mfa_enabled_at = None
    user.updated_at = now
    revoked = sessions.revoke_user_sessions(
        user_id=user.id,
        reason=sessions.REVOKED_MFA_DISABLED,
        keep_session_id=session_id,
    )
    account_mail.queue_mfa_changed(
        user=user,
        enabled=False,
        device=device,
        alert=alerts.mfa_disabled_context(user),
    )
    events.emit(events.MFA_DISABLED, user_id=str(user.id), sessions_revoked=revoked)
    db.session.commit()
