"""Flask commands: `flask auth ...`."""

import click
from flask import current_app
from flask.cli import AppGroup

from app.auth.sessions import purge_sessions

auth_cli = AppGroup("auth", help="Session housekeeping.")


@auth_cli.command("purge")
@click.option(
    "--retention-days", type=int, default=None, help="Keep ended sessions this long."
)
def purge(retention_days):
    """Delete sessions that expired or were revoked longer ago than the retention."""
    days = (
        retention_days
        if retention_days is not None
        else current_app.config["SESSION_RETENTION_DAYS"]
    )
    deleted = purge_sessions(retention_days=days)
    click.echo(f"Deleted {deleted} sessions ended more than {days} days ago.")


def register_cli(app):
    app.cli.add_command(auth_cli)
