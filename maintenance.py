"""The `flask` app for broken settings: `flask --app maintenance auth doctor`.

`auth doctor` (report the production checks) and `keys generate` (make the signing
keys) run here even where `wsgi.py`'s app refuses to start; it serves nothing else.
"""

from app import create_maintenance_app

app = create_maintenance_app()
