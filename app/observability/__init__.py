"""Operations: health check, Prometheus metrics, the per-request log line."""

from app.observability.access_log import register_access_log
from app.observability.metrics import register_metrics


def register_observability(app):
    """Per-request figures for `/metrics` and one JSON log line per request."""
    register_metrics(app)
    register_access_log(app)
