"""Two-factor sign-in request and response schemas."""

from marshmallow import ValidationError, fields, validate, validates_schema

from app.schemas.auth import PASSWORD_INPUT_LENGTH
from app.schemas.base import CamelSchema, Text, camelcase

# ASCII digits only: `\d` would also take full-width and other Unicode digits.
TOTP_CODE = [
    validate.Length(equal=6),
    validate.Regexp(r"^[0-9]{6}$", error="Must be 6 digits."),
]
# As shown at enrolment (xxxx-xxxx-xxxx-xxxx); the dashes are optional.
RECOVERY_CODE = [
    validate.Length(min=16, max=19),
    validate.Regexp(
        r"^[A-Za-z2-7]{4}(-?[A-Za-z2-7]{4}){3}$",
        error="Must be a recovery code (xxxx-xxxx-xxxx-xxxx).",
    ),
]
# MFA tokens are under 400 characters; the cap only keeps garbage cheap to refuse.
MFA_TOKEN_LENGTH = validate.Length(min=1, max=4096)


def totp_code(**kwargs):
    return fields.String(
        load_only=True,
        validate=TOTP_CODE,
        metadata={"description": "The 6-digit code of the authenticator app."},
        **kwargs,
    )


def recovery_code():
    return fields.String(
        load_only=True,
        validate=RECOVERY_CODE,
        metadata={"description": "One of the recovery codes (each works once)."},
    )


class OneFactorSchema(CamelSchema):
    """Exactly one of `code` and `recoveryCode`."""

    # The OpenAPI document says it as `oneOf` of the two `required`.
    exactly_one_of = ("code", "recovery_code")

    code = totp_code()
    recovery_code = recovery_code()

    @validates_schema
    def _one_factor(self, data, **kwargs):
        if sum(name in data for name in self.exactly_one_of) != 1:
            names = [camelcase(name) for name in self.exactly_one_of]
            raise ValidationError(
                f"Provide exactly one of {', '.join(names[:-1])} and {names[-1]}."
            )


class MfaSetupSchema(CamelSchema):
    password = Text(required=True, load_only=True, validate=PASSWORD_INPUT_LENGTH)


class MfaCodeSchema(CamelSchema):
    code = totp_code(required=True)


class MfaVerifySchema(OneFactorSchema):
    """The login's second factor: a code, a recovery code or a passkey's answer."""

    exactly_one_of = ("code", "recovery_code", "credential")

    mfa_token = fields.String(required=True, load_only=True, validate=MFA_TOKEN_LENGTH)
    credential = fields.Dict(
        keys=fields.String(),
        load_only=True,
        metadata={
            "description": "A passkey's answer to the options of "
            "POST /mfa/passkey/options: `PublicKeyCredential.toJSON()`."
        },
    )


class MfaStepUpSchema(OneFactorSchema):
    pass


class MfaDisableSchema(OneFactorSchema):
    password = Text(required=True, load_only=True, validate=PASSWORD_INPUT_LENGTH)


class MfaEnrolmentSchema(CamelSchema):
    secret = fields.String(
        required=True,
        metadata={"description": "The base32 secret, for typing into an app."},
    )
    otpauth_uri = fields.String(
        required=True, metadata={"description": "The otpauth:// URI (the QR code)."}
    )
    qr_svg = fields.String(
        required=True, metadata={"description": "The QR code, an SVG document."}
    )


class RecoveryCodesSchema(CamelSchema):
    recovery_codes = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Shown once: only their hashes are kept."},
    )


class MfaChallengeSchema(CamelSchema):
    """A login of an account with two-factor sign-in: no session yet."""

    mfa_required = fields.Boolean(required=True)
    mfa_token = fields.String(
        required=True,
        metadata={"description": "For POST /mfa/verify; single use, this transport."},
    )
    mfa_token_expires_in = fields.Integer(required=True)
    methods = fields.List(fields.String(), required=True)
