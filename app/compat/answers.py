"""Answer helpers of the profiles: plain JSON (no envelope), 204, error texts."""

from flask import jsonify
from werkzeug.http import HTTP_STATUS_CODES

NO_CONTENT = ("", 204)


def plain_json(data, status=200):
    response = jsonify(data)
    response.status_code = status
    return response


def snake_case(name):
    """`newPassword` -> `new_password`: service field names in a profile's words."""
    return "".join(f"_{char.lower()}" if char.isupper() else char for char in name)


def snake_details(details):
    if not isinstance(details, dict):
        return {"non_field_errors": details}
    return {snake_case(str(key)): value for key, value in details.items()}


def flat_messages(details):
    """`field: message; ...` of marshmallow-style details, for plain-text answers."""
    parts = []
    for field, messages in snake_details(details or {}).items():
        if isinstance(messages, dict):
            messages = [str(value) for value in messages.values()]
        elif not isinstance(messages, list):
            messages = [str(messages)]
        parts.append(f"{field}: {' '.join(str(message) for message in messages)}")
    return "; ".join(parts)


def reason(status):
    return HTTP_STATUS_CODES.get(status, "Error")
