"""Two-factor sign-in endpoints (/auth/mfa/...): each calls one app.auth.mfa service.

Their rate limits are declared in app/ratelimit.py's table, not here.
"""

from flask import g

from app.auth import bp, mfa
from app.auth.principal import access_token_required
from app.auth.tokens import issue_tokens
from app.auth.transport import requested_transport
from app.http import client_ip, user_agent
from app.openapi import examples as ex
from app.openapi.declare import ACCESS, body, operation, response
from app.openapi.examples import example
from app.schemas.auth import LoginDataSchema, MessageSchema, TokenDataSchema
from app.schemas.mfa import (
    MfaCodeSchema,
    MfaDisableSchema,
    MfaEnrolmentSchema,
    MfaSetupSchema,
    MfaStepUpSchema,
    MfaVerifySchema,
    RecoveryCodesSchema,
)

CODE = "123456"
PASSKEY_ASSERTION = {
    "id": "kT6s0u2m1cVx8WcQyq1v7A",
    "rawId": "kT6s0u2m1cVx8WcQyq1v7A",
    "type": "public-key",
    "response": {
        "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiLi4uIjoiLi4uIn0",
        "authenticatorData": "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MdAAAAAA",
        "signature": "MEUCIQCv...",
    },
    "clientExtensionResults": {},
}
ENROLMENT = {
    "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "otpauthUri": "otpauth://totp/auth-server:ada@example.com?secret=JBSWY3DPEHPK3PXP"
    "JBSWY3DPEHPK3PXP&issuer=auth-server&algorithm=SHA1&digits=6&period=30",
    "qrSvg": '<svg xmlns="http://www.w3.org/2000/svg" width="196" height="196">'
    "...</svg>",
}


@bp.post("/mfa/totp/setup")
@operation(
    tag="mfa",
    security=ACCESS,
    errors={
        400: ["invalid_credentials"],
        403: ["reauthentication_required"],
        409: ["mfa_already_enabled"],
    },
)
@response(MfaEnrolmentSchema, examples={"new": example("A new secret", ENROLMENT)})
@access_token_required
@body(MfaSetupSchema, examples={"setup": example("Setup", {"password": ex.PASSWORD})})
def mfa_totp_setup(body):
    """Start enrolling an authenticator app.

    Needs the current password (400 `invalid_credentials` if wrong); an account
    without a password (made by a provider sign-in) instead needs a provider sign-in
    or a second factor within MFA_STEP_UP_TTL (else 403 `reauthentication_required`;
    it sends any non-empty `password`). Answers a new
    secret, its `otpauth://` URI and the QR code as an SVG; nothing is active until
    POST /mfa/totp/confirm. A new setup replaces a pending one.
    """
    return mfa.start_setup(
        user=g.current_user, password=body["password"], claims=g.access_claims
    )


@bp.post("/mfa/totp/confirm")
@operation(
    tag="mfa",
    security=ACCESS,
    errors={
        400: ["invalid_mfa_code"],
        409: ["mfa_already_enabled", "mfa_not_pending"],
    },
)
@response(
    RecoveryCodesSchema, examples={"codes": example("Enabled", ex.RECOVERY_CODES)}
)
@access_token_required
@body(MfaCodeSchema, examples={"confirm": example("Confirm", {"code": CODE})})
def mfa_totp_confirm(body):
    """Turn two-factor sign-in on with a code of the new secret.

    Answers 10 recovery codes, shown this once (only their hashes are kept). A
    wrong code is 400 `invalid_mfa_code` and leaves it off. A notice is mailed.
    """
    codes = mfa.confirm_setup(
        user=g.current_user, code=body["code"], device=user_agent()
    )
    return {"recovery_codes": codes}


@bp.post("/mfa/verify")
@operation(
    tag="mfa",
    errors={
        401: ["invalid_mfa_code", "token_invalid", "token_expired", "passkey_cloned"],
        403: ["account_disabled"],
    },
    auth_mode=True,
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
    MfaVerifySchema,
    examples={
        "totp": example("Code", {"mfaToken": ex.MFA_TOKEN, "code": CODE}),
        "recovery": example(
            "Recovery code",
            {"mfaToken": ex.MFA_TOKEN, "recoveryCode": ex.RECOVERY_CODE},
        ),
        "passkey": example(
            "Passkey (options from POST /mfa/passkey/options)",
            {"mfaToken": ex.MFA_TOKEN, "credential": PASSKEY_ASSERTION},
        ),
    },
)
def mfa_verify(body):
    """Finish a login with its second factor.

    The `mfaToken` of the login and a `code`, a `recoveryCode` or a passkey's
    `credential`; the request says the same `X-Auth-Mode` as the login. Answers
    what a login answers. A wrong code or passkey answer is 401
    `invalid_mfa_code`; a used, dead (5 wrong codes) or foreign token 401
    `token_invalid`, an old one `token_expired`; a cloned passkey (its counter
    went backwards) 401 `passkey_cloned`.
    """
    user, user_session, device_token = mfa.verify_login(
        mfa_token=body["mfa_token"],
        code=body.get("code"),
        recovery_code=body.get("recovery_code"),
        credential=body.get("credential"),
        transport=requested_transport(),
        user_agent=user_agent(),
        ip=client_ip(),
    )
    return issue_tokens(user_session, device_token, role=user.role), user


@bp.post("/mfa/step-up")
@operation(
    tag="mfa",
    security=ACCESS,
    errors={400: ["invalid_mfa_code"], 409: ["mfa_not_enabled"]},
)
@response(
    TokenDataSchema,
    tokens=True,
    examples={
        "cookie": example("Cookie transport", ex.TOKENS),
        "bearer": example("Bearer transport", ex.BEARER_TOKENS),
    },
)
@access_token_required
@body(
    MfaStepUpSchema,
    examples={
        "totp": example("Code", {"code": CODE}),
        "recovery": example("Recovery code", {"recoveryCode": ex.RECOVERY_CODE}),
    },
)
def mfa_step_up(body):
    """Prove a second factor again, for a sensitive action.

    Answers a new access token of the same session whose `amr` and `auth_time`
    show it; password change, MFA disable and recovery-code regeneration accept
    it for `MFA_STEP_UP_TTL` seconds.
    """
    user_session = mfa.step_up(
        user=g.current_user,
        session_id=g.current_session_id,
        code=body.get("code"),
        recovery_code=body.get("recovery_code"),
    )
    return issue_tokens(user_session, role=g.current_user.role), {}


@bp.post("/mfa/recovery-codes")
@operation(
    tag="mfa",
    security=ACCESS,
    errors={400: ["invalid_mfa_code"], 409: ["mfa_not_enabled"]},
)
@response(
    RecoveryCodesSchema, examples={"codes": example("New codes", ex.RECOVERY_CODES)}
)
@access_token_required
@body(MfaCodeSchema, examples={"code": example("Code", {"code": CODE})})
def mfa_recovery_codes(body):
    """Replace every recovery code.

    Needs a current code of the authenticator app; the old codes stop working.
    """
    return {
        "recovery_codes": mfa.regenerate_recovery_codes(
            user=g.current_user, code=body["code"]
        )
    }


MFA_DISABLED = "Two-factor sign-in is off. Your other sessions have been signed out."


@bp.delete("/mfa/totp")
@operation(
    tag="mfa",
    security=ACCESS,
    errors={
        400: ["invalid_credentials", "invalid_mfa_code"],
        403: ["reauthentication_required"],
        409: ["mfa_not_enabled"],
    },
)
@response(MessageSchema, examples={"done": example("Off", {"message": MFA_DISABLED})})
@access_token_required
@body(
    MfaDisableSchema,
    examples={"disable": example("Disable", {"password": ex.PASSWORD, "code": CODE})},
)
def mfa_totp_disable(body):
    """Turn two-factor sign-in off.

    Needs the password and a current code (or a recovery code); ends the other
    sessions and mails a notice. Any refusal leaves it on.
    """
    mfa.disable(
        user=g.current_user,
        session_id=g.current_session_id,
        claims=g.access_claims,
        password=body["password"],
        code=body.get("code"),
        recovery_code=body.get("recovery_code"),
        device=user_agent(),
    )
    return {"message": MFA_DISABLED}
