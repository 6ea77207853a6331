"""Query-string fields every paginated listing shares."""

from marshmallow import fields, validate

from app.pagination import CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT
from app.schemas.base import CamelSchema

CURSOR_DESCRIPTION = "The `nextCursor` of the previous page, as it was given."


class PageQuerySchema(CamelSchema):
    cursor = fields.String(
        validate=validate.Regexp(CURSOR_PATTERN),
        metadata={"description": CURSOR_DESCRIPTION},
    )
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": "Rows per page."},
    )


def next_cursor_field():
    return fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Pass as `cursor` for the next page; null: last."},
    )
