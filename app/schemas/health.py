"""`GET /health` output schema."""

from marshmallow import fields, validate

from app.schemas.base import CamelSchema

CHECK_RESULT = validate.OneOf(["ok", "error", "timeout", "disabled"])


class HealthChecksSchema(CamelSchema):
    database = fields.String(required=True, validate=CHECK_RESULT)
    rate_limit_storage = fields.String(required=True, validate=CHECK_RESULT)


class HealthSchema(CamelSchema):
    status = fields.String(required=True, validate=validate.OneOf(["ok"]))
    checks = fields.Nested(HealthChecksSchema, required=True)
