"""The reference: a Flask app whose one endpoint returns a constant JSON body.

Served by bench/run.py with the project's gunicorn.conf.py (same workers, threads and
logging set-up), so the ratio of an endpoint's rate to this one is what the app's
own work costs on top of gunicorn and Flask.
"""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/bare")
def bare():
    return jsonify({"success": True, "data": {"status": "ok"}})


@app.get("/health")
def health():
    return jsonify({"success": True, "data": {"status": "ok"}})
