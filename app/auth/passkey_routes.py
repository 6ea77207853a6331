"""Passkey endpoints (/auth/passkeys/..., /auth/mfa/passkey/options): one service each.

Their rate limits are declared in app/ratelimit.py's table, not here.
"""

from flask import g

from app.auth import bp, mfa, passkeys
from app.auth.devices import presented_device_token
from app.auth.principal import access_token_required
from app.auth.tokens import issue_tokens
from app.auth.transport import requested_transport
from app.http import client_ip, user_agent
from app.openapi import examples as ex
from app.openapi.declare import ACCESS, body, operation, response
from app.openapi.examples import example
from app.schemas.auth import EmptySchema, LoginDataSchema, MessageSchema
from app.schemas.passkey import (
    CreationOptionsSchema,
    MfaPasskeyOptionsSchema,
    PasskeyDataSchema,
    PasskeyListSchema,
    PasskeyLoginSchema,
    PasskeyRegisterSchema,
    RequestOptionsSchema,
)

CHALLENGE = "q7w5Yl6V3N3dX2WUL3uK0b3bC6sVtYkQkQx3y2pQ9aY"
CREDENTIAL_ID = "kT6s0u2m1cVx8WcQyq1v7A"
CREATION_OPTIONS = {
    "rp": {"name": "auth-server", "id": "app.example.com"},
    "user": {"id": "XwxhQ8P0SjGb7z8ccZ2e3A", "name": ex.EMAIL, "displayName": "Ada"},
    "challenge": CHALLENGE,
    "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
    "timeout": 300000,
    "excludeCredentials": [],
    "authenticatorSelection": {
        "residentKey": "required",
        "requireResidentKey": True,
        "userVerification": "required",
    },
    "attestation": "none",
}
REQUEST_OPTIONS = {
    "challenge": CHALLENGE,
    "timeout": 300000,
    "rpId": "app.example.com",
    "allowCredentials": [],
    "userVerification": "required",
}
REGISTRATION = {
    "id": CREDENTIAL_ID,
    "rawId": CREDENTIAL_ID,
    "type": "public-key",
    "response": {
        "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiLi4uIjoiLi4uIn0",
        "attestationObject": "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVjF...",
        "transports": ["internal", "hybrid"],
    },
    "clientExtensionResults": {},
    "authenticatorAttachment": "platform",
}
ASSERTION = {
    "id": CREDENTIAL_ID,
    "rawId": CREDENTIAL_ID,
    "type": "public-key",
    "response": {
        "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiLi4uIjoiLi4uIn0",
        "authenticatorData": "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MdAAAAAA",
        "signature": "MEUCIQCv...",
        "userHandle": "XwxhQ8P0SjGb7z8ccZ2e3A",
    },
    "clientExtensionResults": {},
    "authenticatorAttachment": "platform",
}
PASSKEY = {
    "id": "0b9f0c8e-6d1e-4a57-9d55-0c6f2a3e6c11",
    "name": "Work laptop",
    "createdAt": "2025-01-15T09:30:00Z",
    "lastUsedAt": None,
    "transports": ["internal", "hybrid"],
    "backedUp": True,
}


@bp.post("/passkeys/register/options")
@operation(tag="passkeys", security=ACCESS, errors={403: ["mfa_required"]})
@response(
    CreationOptionsSchema,
    examples={"options": example("Creation options", CREATION_OPTIONS)},
)
@access_token_required
@body(EmptySchema, optional=True, examples={"none": example("No body", {})})
def passkey_register_options(body):
    """Start adding a passkey.

    Answers `PublicKeyCredentialCreationOptions` (JSON form) for
    `navigator.credentials.create()`: a discoverable credential with user
    verification; `excludeCredentials` lists the caller's passkeys. The challenge
    is for this user and session, single use, for 5 minutes. With two-factor
    sign-in on, the session needs a recent second factor (403 `mfa_required`).
    """
    return passkeys.registration_options(
        user=g.current_user, session_id=g.current_session_id, claims=g.access_claims
    )


@bp.post("/passkeys/register/verify")
@operation(
    tag="passkeys",
    security=ACCESS,
    errors={
        400: ["passkey_invalid", "passkey_challenge_invalid"],
        403: ["mfa_required"],
        409: ["passkey_exists"],
    },
)
@response(
    PasskeyDataSchema, 201, examples={"added": example("Added", {"passkey": PASSKEY})}
)
@access_token_required
@body(
    PasskeyRegisterSchema,
    examples={
        "add": example("Add", {"credential": REGISTRATION, "name": "Work laptop"})
    },
)
def passkey_register_verify(body):
    """Finish adding a passkey.

    `credential` is the authenticator's answer (`PublicKeyCredential.toJSON()`),
    `name` the user's name for it. Its origin, RP id, challenge and signature
    must check out (400 `passkey_invalid`); a used, expired or foreign challenge
    is 400 `passkey_challenge_invalid`; an authenticator already registered here
    409 `passkey_exists`. A notice is mailed.
    """
    passkey = passkeys.register(
        user=g.current_user,
        session_id=g.current_session_id,
        claims=g.access_claims,
        credential=body["credential"],
        name=body["name"],
        device=user_agent(),
    )
    return {"passkey": passkey}


@bp.get("/passkeys")
@operation(tag="passkeys", security=ACCESS)
@response(PasskeyListSchema, examples={"one": example("One", {"passkeys": [PASSKEY]})})
@access_token_required
def list_passkeys():
    """List the caller's passkeys.

    Oldest first: id, the user's name for it, when it was added and last used,
    its transports and whether it is backed up (synced).
    """
    return {"passkeys": passkeys.list_passkeys(user_id=g.current_user.id)}


@bp.delete("/passkeys/<passkey_id>")
@operation(tag="passkeys", security=ACCESS, errors={404: ["passkey_not_found"]})
@response(
    MessageSchema,
    examples={"done": example("Removed", {"message": "Passkey removed."})},
)
@access_token_required
def delete_passkey(passkey_id):
    """Remove one of the caller's passkeys.

    Another user's, or an unknown id, is 404 `passkey_not_found`. It can no longer
    sign in. A notice is mailed.
    """
    passkeys.remove(user=g.current_user, passkey_id=passkey_id, device=user_agent())
    return {"message": "Passkey removed."}


@bp.post("/passkeys/login/options")
@operation(tag="passkeys")
@response(
    RequestOptionsSchema,
    examples={"options": example("Request options", REQUEST_OPTIONS)},
)
@body(EmptySchema, optional=True, examples={"none": example("No body", {})})
def passkey_login_options(body):
    """Start a passwordless sign-in.

    Answers `PublicKeyCredentialRequestOptions` (JSON form) for
    `navigator.credentials.get()`, without `allowCredentials`: the browser offers
    the passkeys it holds for this site. No email is asked, so the answer says
    nothing about accounts. Single use, 5 minutes; rate limited per IP.
    """
    return passkeys.login_options()


@bp.post("/passkeys/login/verify")
@operation(
    tag="passkeys",
    errors={
        400: ["passkey_challenge_invalid"],
        401: ["passkey_invalid", "passkey_unknown", "passkey_cloned"],
        403: ["account_disabled"],
    },
    auth_mode=True,
    device_cookie=True,
)
@response(
    LoginDataSchema,
    tokens=True,
    examples={
        "cookie": example("Cookie transport", {**ex.LOGIN_PROFILE, **ex.TOKENS}),
        "bearer": example(
            "Bearer transport (X-Auth-Mode: bearer)",
            {**ex.LOGIN_PROFILE, **ex.BEARER_LOGIN_TOKENS},
        ),
    },
)
@body(
    PasskeyLoginSchema,
    examples={"sign-in": example("Sign in", {"credential": ASSERTION})},
)
def passkey_login_verify(body):
    """Sign in with a passkey.

    `credential` is the answer of `navigator.credentials.get()`. Answers what a
    login answers, per `X-Auth-Mode`; the session's `amr` is `["hwk", "user"]`
    (`acr` `aal2`: the passkey verified its user), so no second factor is asked.
    A passkey not registered here is 401 `passkey_unknown`; a bad signature,
    origin or RP id 401 `passkey_invalid`; a signature counter that went backwards
    (a cloned authenticator) 401 `passkey_cloned`, recorded as a security event.
    """
    user, user_session, device_token = passkeys.login(
        credential=body["credential"],
        device_token=presented_device_token(body.get("device_token")),
        transport=requested_transport(),
        user_agent=user_agent(),
        ip=client_ip(),
    )
    return issue_tokens(user_session, device_token, role=user.role), user


@bp.post("/mfa/passkey/options")
@operation(
    tag="mfa",
    errors={
        401: ["token_invalid", "token_expired"],
        403: ["account_disabled"],
        409: ["passkey_not_registered"],
    },
    auth_mode=True,
)
@response(
    RequestOptionsSchema,
    examples={"options": example("Request options", REQUEST_OPTIONS)},
)
@body(
    MfaPasskeyOptionsSchema,
    examples={"options": example("Options", {"mfaToken": ex.MFA_TOKEN})},
)
def mfa_passkey_options(body):
    """Start a login's second factor with a passkey.

    For a login whose answer listed `webauthn` in `methods`: request options
    whose `allowCredentials` are the account's passkeys, bound to this
    `mfaToken`. POST /mfa/verify `{mfaToken, credential}` finishes the login.
    """
    return mfa.passkey_options(
        mfa_token=body["mfa_token"], transport=requested_transport()
    )
