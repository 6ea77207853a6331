"""gunicorn settings, read from the environment (see README)."""

import os

bind = (
    os.environ.get("BIND")
    or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# bcrypt releases the GIL, so threads of one worker hash passwords in parallel.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Well above one bcrypt hash at cost 12-14 (0.25-1 s), even with the machine busy.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Logs go to stdout/stderr for the process manager; the app logs each request itself.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# The Server header says "gunicorn" without a version.
proc_name = "auth-server"
