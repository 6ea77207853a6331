"""The document, and a Swagger UI page whose files the app serves itself (no CDN)."""

from importlib.resources import files
from pathlib import Path

from flask import current_app, jsonify, render_template, send_from_directory, url_for

from app.errors import NotFound
from app.openapi import bp
from app.openapi.declare import operation, response
from app.openapi.spec import build_spec

SWAGGER_UI_DIST = Path(str(files("flask_swagger_ui") / "dist"))
OWN_STATIC = Path(__file__).resolve().parent / "static"
# Only the files the page loads; nothing else of either folder is served.
SWAGGER_UI_FILES = {
    "swagger-ui-bundle.js",
    "swagger-ui.css",
    "index.css",
    "favicon-16x16.png",
    "favicon-32x32.png",
}
OWN_FILES = {"docs.js"}
# The page runs only its own files: no inline script, nothing from elsewhere.
# Swagger UI styles some elements inline and draws icons as data: images.
DOCS_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
ASSET_MAX_AGE = 3600


def current_document():
    """The document, built once per app (the routes do not change at run time)."""
    cached = current_app.extensions.get("openapi_document")
    if cached is None:
        cached = current_app.extensions["openapi_document"] = build_spec(current_app)
    return cached


@bp.get("/api/v1/openapi.json")
@operation(tag="documentation", operation_id="openapi")
@response(media_type="application/json")
def document():
    """This OpenAPI 3.1 document.

    Generated from the routes and what each view declares (body and answer
    schemas, status, security, errors, examples); it is what this page is built
    from, not a copy kept by hand.
    """
    return jsonify(current_document())


@bp.get("/docs")
@operation(tag="documentation")
@response(media_type="text/html")
def docs():
    """Swagger UI for this document (served by the app; no CDN).

    An interactive page to read the document and try the operations; its scripts
    and styles are the app's own files, under a Content-Security-Policy of its own.
    """
    response = current_app.make_response(
        render_template("openapi/docs.html", spec_url=url_for("openapi.document"))
    )
    # The security headers hook keeps a view's own policy (see security_headers.py).
    response.headers["Content-Security-Policy"] = DOCS_CSP
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/docs/<path:filename>")
def docs_asset(filename):
    if filename in OWN_FILES:
        folder = OWN_STATIC
    elif filename in SWAGGER_UI_FILES:
        folder = SWAGGER_UI_DIST
    else:
        raise NotFound()
    return send_from_directory(folder, filename, max_age=ASSET_MAX_AGE)
