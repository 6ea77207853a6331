"""`GET /.well-known/jwks.json` output schema (RFC 7517)."""

from marshmallow import fields, validate

from app.schemas.base import CamelSchema


class JWKSchema(CamelSchema):
    """One public key (RFC 7517): the RFC 7638 members plus kid, use and alg."""

    kty = fields.String(required=True, validate=validate.OneOf(["RSA", "EC", "OKP"]))
    use = fields.String(required=True, validate=validate.OneOf(["sig"]))
    alg = fields.String(required=True)
    kid = fields.String(required=True)
    n = fields.String(metadata={"optional": True})
    e = fields.String(metadata={"optional": True})
    crv = fields.String(metadata={"optional": True})
    x = fields.String(metadata={"optional": True})
    y = fields.String(metadata={"optional": True})


class JWKSetSchema(CamelSchema):
    keys = fields.List(fields.Nested(JWKSchema), required=True)
