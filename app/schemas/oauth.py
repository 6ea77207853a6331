"""Sign-in with a provider: query, body and answer schemas."""

from marshmallow import fields, validate

from app.schemas.auth import device_token_input
from app.schemas.base import CamelSchema, Text, UTCDateTimeField

URL_LENGTH = validate.Length(min=1, max=2048)


class AuthorizeQuerySchema(CamelSchema):
    # Query parameters: the document is built from the declared names (data_key).
    return_to = Text(
        data_key="returnTo",
        validate=URL_LENGTH,
        metadata={
            "description": "Where the SPA gets its code: on FRONTEND_URL's origin."
        },
    )
    mode = fields.String(
        validate=validate.OneOf(["cookie", "bearer"]),
        metadata={
            "description": "`bearer`: a mobile app (redirectUri, codeChallenge)."
        },
    )
    redirect_uri = Text(
        data_key="redirectUri",
        validate=URL_LENGTH,
        metadata={"description": "mode=bearer: one of OAUTH_APP_REDIRECTS."},
    )
    code_challenge = Text(
        data_key="codeChallenge",
        validate=validate.Length(min=43, max=43),
        metadata={"description": "mode=bearer: the app's PKCE S256 challenge."},
    )
    code_challenge_method = fields.String(
        data_key="codeChallengeMethod", validate=validate.OneOf(["S256"])
    )
    link = Text(
        validate=validate.Length(min=1, max=512),
        metadata={
            "description": "The link token of POST /users/me/identities/.../link."
        },
    )


class LoginCodeSchema(CamelSchema):
    code = Text(required=True, load_only=True, validate=validate.Length(min=1, max=128))
    code_verifier = Text(
        load_only=True,
        validate=validate.Length(min=43, max=128),
        metadata={
            "description": "Apps (mode=bearer): the PKCE verifier of their challenge."
        },
    )
    device_token = device_token_input()


class ProviderSchema(CamelSchema):
    name = fields.String(required=True)
    label = fields.String(required=True)


class ProviderListSchema(CamelSchema):
    providers = fields.List(fields.Nested(ProviderSchema), required=True)


class IdentitySchema(CamelSchema):
    provider = fields.String(required=True)
    email = fields.String(allow_none=True)
    created_at = UTCDateTimeField(required=True)
    last_sign_in_at = UTCDateTimeField(allow_none=True)


class IdentityListSchema(CamelSchema):
    identities = fields.List(fields.Nested(IdentitySchema), required=True)
    has_password = fields.Boolean(required=True)


class LinkBodySchema(CamelSchema):
    return_to = Text(validate=URL_LENGTH)
    redirect_uri = Text(validate=URL_LENGTH)


class LinkDataSchema(CamelSchema):
    authorization_url = fields.String(required=True)
