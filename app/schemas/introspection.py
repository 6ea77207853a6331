"""POST /api/v1/auth/introspect answer (RFC 7662): its own snake_case names."""

from marshmallow import Schema, fields


class IntrospectionSchema(Schema):
    """`active`, and for an active access token its claims (RFC 7662 section 2.2)."""

    active = fields.Boolean(required=True)
    token_type = fields.String(metadata={"description": "`access_token`"})
    client_id = fields.String(metadata={"description": "The calling service."})
    iss = fields.String()
    sub = fields.String()
    aud = fields.Raw(metadata={"description": "A string, or a list of them."})
    exp = fields.Integer()
    iat = fields.Integer()
    jti = fields.String()
    sid = fields.String()
    role = fields.String()
    amr = fields.List(fields.String())
    acr = fields.String()
    auth_time = fields.Integer()
