"""The camelCase base schema and the field types every schema shares."""

import unicodedata
from datetime import UTC

from marshmallow import RAISE, Schema, ValidationError, fields

# Cc: NUL and the other control characters; Cs: lone surrogates, which no database
# can store as UTF-8. Refused the same way on SQLite and PostgreSQL.
FORBIDDEN_CATEGORIES = {"Cc", "Cs"}
# An address also refuses Cf (zero-width and bidi controls: invisible, so two
# addresses that look alike would differ) and inner white space.
EMAIL_FORBIDDEN_CATEGORIES = FORBIDDEN_CATEGORIES | {"Cf", "Zs", "Zl", "Zp"}


def camelcase(name):
    head, *tail = name.split("_")
    return head + "".join(part.title() for part in tail)


class CamelSchema(Schema):
    """snake_case attributes, camelCase JSON keys; unknown keys are an error."""

    class Meta:
        unknown = RAISE

    def on_bind_field(self, field_name, field_obj):
        field_obj.data_key = camelcase(field_obj.data_key or field_name)


class Text(fields.String):
    """A string free of control characters and lone surrogates."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if any(unicodedata.category(char) in FORBIDDEN_CATEGORIES for char in text):
            raise ValidationError("Control characters are not allowed.")
        return text


class TrimmedText(Text):
    """Text with surrounding white space removed."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class NormalizedEmail(fields.Email):
    """An email address, trimmed and lower-cased: emails compare case-insensitively."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip().lower()
            categories = {unicodedata.category(char) for char in value}
            if categories & EMAIL_FORBIDDEN_CATEGORIES:
                raise ValidationError("Invisible or control characters are refused.")
        return super()._deserialize(value, attr, data, **kwargs)


class UTCDateTimeField(fields.Field):
    """ISO 8601 in UTC with a `Z` suffix."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        text = value.astimezone(UTC).isoformat(timespec="seconds")
        return text.replace("+00:00", "Z")
