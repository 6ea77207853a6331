"""Logging to stdout, every line tagged with the request id."""

import logging
import sys

from flask import g, has_request_context


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = (
            getattr(g, "request_id", "-") if has_request_context() else "-"
        )
        return True


def setup_logging(app):
    root = logging.getLogger()
    if not any(getattr(h, "_auth_server", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler._auth_server = True
        handler.addFilter(RequestIdFilter())
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
            )
        )
        root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
