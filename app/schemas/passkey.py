"""Passkey request and response schemas.

The options answers are the WebAuthn JSON forms as they are: a browser's
`PublicKeyCredential.parseCreationOptionsFromJSON` / `parseRequestOptionsFromJSON`,
Android's Credential Manager and iOS's AuthenticationServices take them whole.
The `credential` bodies are `PublicKeyCredential.toJSON()`; py_webauthn checks them.
"""

from marshmallow import fields, validate

from app.schemas.auth import device_token_input
from app.schemas.base import CamelSchema, TrimmedText, UTCDateTimeField
from app.schemas.mfa import MFA_TOKEN_LENGTH

NAME_LENGTH = validate.Length(min=1, max=64)


def credential_field(**kwargs):
    return fields.Dict(
        keys=fields.String(),
        load_only=True,
        metadata={
            "description": "The authenticator's answer: `PublicKeyCredential.toJSON()`."
        },
        **kwargs,
    )


def as_sent(field, name, **kwargs):
    """An options member by its WebAuthn (camelCase) name, dumped as it is."""
    if not kwargs.get("required"):
        kwargs["metadata"] = {"optional": True}
    return field(attribute=name, data_key=name, **kwargs)


class CreationOptionsSchema(CamelSchema):
    """PublicKeyCredentialCreationOptions, JSON form (base64url for bytes)."""

    rp = as_sent(fields.Dict, "rp", required=True)
    user = as_sent(fields.Dict, "user", required=True)
    challenge = as_sent(fields.String, "challenge", required=True)
    pub_key_cred_params = as_sent(
        fields.List, "pubKeyCredParams", cls_or_instance=fields.Dict(), required=True
    )
    timeout = as_sent(fields.Integer, "timeout")
    exclude_credentials = as_sent(
        fields.List, "excludeCredentials", cls_or_instance=fields.Dict()
    )
    authenticator_selection = as_sent(fields.Dict, "authenticatorSelection")
    attestation = as_sent(fields.String, "attestation")
    hints = as_sent(fields.List, "hints", cls_or_instance=fields.String())


class RequestOptionsSchema(CamelSchema):
    """PublicKeyCredentialRequestOptions, JSON form (base64url for bytes)."""

    challenge = as_sent(fields.String, "challenge", required=True)
    timeout = as_sent(fields.Integer, "timeout")
    rp_id = as_sent(fields.String, "rpId")
    allow_credentials = as_sent(
        fields.List, "allowCredentials", cls_or_instance=fields.Dict()
    )
    user_verification = as_sent(fields.String, "userVerification")
    hints = as_sent(fields.List, "hints", cls_or_instance=fields.String())


class PasskeyRegisterSchema(CamelSchema):
    credential = credential_field(required=True)
    name = TrimmedText(
        required=True,
        validate=NAME_LENGTH,
        metadata={"description": 'A name the user picks ("Work laptop").'},
    )


class PasskeyLoginSchema(CamelSchema):
    credential = credential_field(required=True)
    device_token = device_token_input()


class MfaPasskeyOptionsSchema(CamelSchema):
    mfa_token = fields.String(required=True, load_only=True, validate=MFA_TOKEN_LENGTH)


class PasskeySchema(CamelSchema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    created_at = UTCDateTimeField(required=True)
    last_used_at = UTCDateTimeField(allow_none=True, required=True)
    transports = fields.Method(
        "transport_list",
        metadata={"type": "array", "items": {"type": "string"}},
        required=True,
    )
    backed_up = fields.Boolean(
        required=True,
        metadata={"description": "Synced to the user's cloud account (a backup)."},
    )

    def transport_list(self, passkey):
        return passkey.transports.split()


class PasskeyListSchema(CamelSchema):
    passkeys = fields.List(fields.Nested(PasskeySchema), required=True)


class PasskeyDataSchema(CamelSchema):
    passkey = fields.Nested(PasskeySchema, required=True)
