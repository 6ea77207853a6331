"""gunicorn settings, read from the environment (see README)."""

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from gunicorn import glogging
from gunicorn.workers.gthread import ThreadWorker

bind = (
    os.environ.get("BIND")
    or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))


class StopListeningWorker(ThreadWorker):
    """gthread, whose stopping worker closes its listening sockets at once.

    gthread stops accepting at SIGTERM but keeps its copy of the listening socket
    open until its last request is done: the kernel still completes connections
    (into the backlog), and those are reset when the worker exits, with their
    requests sent. A proxy may not resend such a POST. Closed at once (the master
    closes its own first), new connections are refused instead, which a proxy
    passes to another host whatever the method. Under systemd the socket belongs to
    auth-server.socket and stays open: new connections wait there for the next
    gunicorn instead (docs/deployment.md, rolling restart).
    """

    def set_accept_enabled(self, enabled):
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive:
            for listener in self.sockets:
                listener.close()


# bcrypt releases the GIL, so threads of one worker hash passwords in parallel.
worker_class = StopListeningWorker
# Enough threads that logins waiting for bcrypt (BCRYPT_CONCURRENCY hash at once,
# the rest sleep) leave threads free for cheap requests; bench/README.md.
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
# Well above one bcrypt hash at cost 12-14 (0.25-1 s), even with the machine busy.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# gunicorn answers a request of more than 100 header fields with a bare HTML 400.
# In production nginx bounds the request head (deploy/nginx: 4 KiB a line, under
# 18 KiB in all) and answers larger ones in the JSON envelope; a head it passes has
# at most ~4,500 fields ("a:" lines), so gunicorn must let that many through.
limit_request_fields = 5000
# Logs go to stdout for the process manager, one JSON object per line as the app's
# own (app/logs.py); the app logs each request itself, so no access log here.
accesslog = None
errorlog = "-"


class AppLogsRequests(glogging.Logger):
    """gunicorn's logger, whose access log is on only when a file is asked for.

    With a logconfig_dict gunicorn would build every request's access-log atoms and
    hand them to a logger without a handler; the app logs each request itself.
    """

    @property
    def access_log_enabled(self):
        return bool(self.cfg.accesslog)


logger_class = AppLogsRequests
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


def _json_formatter():
    # app/logs.py loaded by path: importing the `app` package here, in the master,
    # would hand its modules to every forked worker, and a HUP would keep old code.
    spec = importlib.util.spec_from_file_location(
        "auth_server_logs", Path(__file__).resolve().parent / "app" / "logs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.JsonFormatter()


logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": _json_formatter}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        }
    },
    # The app adds its own stdout handler to the root logger in each worker.
    "root": {"level": loglevel.upper(), "handlers": []},
    "loggers": {
        "gunicorn.error": {
            "level": loglevel.upper(),
            "handlers": ["stdout"],
            "propagate": False,
        },
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
}
# gunicorn 27 sends `Server: gunicorn`, without its version (tests/ops check it).
# Its runtime control socket sits at one fixed per-user path, so two instances on a
# host would clash; it is opt-in here (GUNICORN_CONTROL_SOCKET=path to enable).
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
proc_name = "auth-server"

# Prometheus multiprocess mode: each worker writes its figures to files in one
# directory and /metrics adds them up. Without PROMETHEUS_MULTIPROC_DIR a private
# temporary directory is used (and removed on exit). Set here, in the master, so
# every worker inherits it before it imports prometheus_client.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _metrics_dir = tempfile.mkdtemp(prefix="auth-server-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir
    os.environ["AUTH_SERVER_METRICS_TMPDIR"] = _metrics_dir


def on_starting(server):
    """Create the metrics directory, empty: an earlier run's figures must not add up."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    """A worker ended: drop its live gauges (its counters keep adding up)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the temporary metrics directory made above (not one the operator set)."""
    ours = os.environ.get("AUTH_SERVER_METRICS_TMPDIR")
    if ours and ours == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(ours, ignore_errors=True)


def post_fork(server, worker):
    """Tell the app, loaded after this, how many workers share the host's limits.

    gunicorn's real count (`-w` or `workers`), which the production guard also checks
    memory:// limits against; the master itself never imports the app.
    """
    os.environ["SERVER_WORKERS"] = str(server.num_workers)


def post_worker_init(worker):
    """The worker has loaded the app: start its outbox sender thread."""
    from app.outbox.sender import start_sender

    start_sender(worker.wsgi)


def worker_exit(server, worker):
    """Let the sender finish the mail in hand (a cut one is resent: at least once)."""
    app = getattr(worker, "wsgi", None)
    if app is not None:
        from app.outbox.sender import stop_sender

        stop_sender(app, timeout=10)
