"""POST /api/v1/auth/introspect answer (RFC 7662): its own snake_case names."""

from marshmallow import Schema, fields


class IntrospectionSchema(Schema):
    """`active`, and for an active access token its claims (RFC 7662 section 2.2).

    Inactive answers are `{"active": false}` alone: every other member is optional.
    """

    active = fields.Boolean(required=True)
    token_type = fields.String(
        metadata={"optional": True, "description": "`access_token`"}
    )
    client_id = fields.String(
        metadata={"optional": True, "description": "The calling service."}
    )
    iss = fields.String(metadata={"optional": True})
    sub = fields.String(metadata={"optional": True})
    aud = fields.Raw(
        metadata={"optional": True, "description": "A string, or a list of them."}
    )
    exp = fields.Integer(metadata={"optional": True})
    iat = fields.Integer(metadata={"optional": True})
    jti = fields.String(metadata={"optional": True})
    sid = fields.String(metadata={"optional": True})
    role = fields.String(metadata={"optional": True})
    amr = fields.List(fields.String(), metadata={"optional": True})
    acr = fields.String(metadata={"optional": True})
    auth_time = fields.Integer(metadata={"optional": True})
