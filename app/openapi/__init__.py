"""The OpenAPI document (`/api/v1/openapi.json`) and its Swagger UI page (`/docs`)."""

from flask import Blueprint

bp = Blueprint("openapi", __name__, template_folder="templates")

from app.openapi import routes  # noqa: E402,F401  (routes attach themselves to bp)
