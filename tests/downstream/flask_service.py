"""A downstream Flask service trusting the auth server through auth_verifier.

Run under gunicorn: AUTH_SERVER_URL, AUTH_ISSUER, AUTH_AUDIENCE, MAX_STALENESS.
"""

import os

from auth_verifier import AuthVerifier
from auth_verifier.flask import FlaskAuth
from flask import Flask, g, jsonify

verifier = AuthVerifier(
    os.environ["AUTH_SERVER_URL"],
    issuer=os.environ.get("AUTH_ISSUER", "auth-server"),
    audience=os.environ.get("AUTH_AUDIENCE", "auth-server"),
    max_staleness=float(os.environ.get("MAX_STALENESS", "60")),
    poll_wait=int(os.environ.get("POLL_WAIT", "25")),
    backoff_max=float(os.environ.get("BACKOFF_MAX", "2")),
    fail_open=os.environ.get("FAIL_OPEN") == "true",
)
verifier.start()  # in each worker: gunicorn imports the app after the fork
app = Flask(__name__)
auth = FlaskAuth(app, verifier)


@app.get("/me")
@auth.required
def me():
    return jsonify({"sub": g.auth_claims["sub"], "sid": g.auth_claims["sid"]})


@app.get("/verifier")
def state():
    return jsonify(verifier.metrics())


@app.get("/bare")
def bare():
    return jsonify({"ok": True})
