"""Flask commands: `flask auth`, `flask users`, `flask keys`, `flask mail`, `flask dev`.

`auth doctor` and `keys generate` also belong to the maintenance app (`flask --app
maintenance ...`), which starts on settings the app refuses; nothing else does.
"""

import signal
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo
from marshmallow import ValidationError

from app import clock
from app.audit.trail import purge_events
from app.auth.keys import ASYMMETRIC, write_key_pair
from app.auth.passkey_ceremony import purge_challenges
from app.auth.sessions import purge_sessions
from app.errors import ApiError
from app.guard import settings_checks
from app.models.outbox import STATUS_FAILED, STATUS_PENDING, STATUSES
from app.models.user import ROLE_ADMIN, ROLE_USER
from app.oauth.login_codes import purge_expired as purge_expired_sign_ins
from app.outbox import sender, store
from app.schemas.auth import RegisterSchema
from app.users import admin
from app.users.deletion import purge_pending_deletions

auth_cli = AppGroup("auth", help="Session housekeeping and settings checks.")
users_cli = AppGroup("users", help="Manage accounts.")
keys_cli = AppGroup("keys", help="JWT signing keys.")
maintenance_auth_cli = AppGroup("auth", help="Settings checks.")
mail_cli = AppGroup("mail", help="The outgoing mail outbox.")
dev_cli = AppGroup("dev", help="Development helpers (refused in production).")
# Rows listed per status by `flask mail status`.
STATUS_LIST_LIMIT = 20


def setting_unless_given(value, setting):
    """A command-line option's value, or the setting's when it was not given."""
    return value if value is not None else current_app.config[setting]


@auth_cli.command("purge")
@click.option(
    "--retention-days", type=int, default=None, help="Keep ended sessions this long."
)
@click.option(
    "--audit-retention-days",
    type=int,
    default=None,
    help="Keep audit events this long [AUDIT_RETENTION_DAYS].",
)
def purge(retention_days, audit_retention_days):
    """Delete ended sessions and audit events older than their retention, expired
    passkey challenges, and the accounts whose deletion grace period
    (ACCOUNT_DELETION_GRACE_DAYS) is over."""
    erased = purge_pending_deletions()
    click.echo(f"Deleted {erased} accounts whose deletion grace period is over.")
    days = setting_unless_given(retention_days, "SESSION_RETENTION_DAYS")
    deleted = purge_sessions(retention_days=days)
    click.echo(f"Deleted {deleted} sessions ended more than {days} days ago.")
    audit_days = setting_unless_given(audit_retention_days, "AUDIT_RETENTION_DAYS")
    pruned = purge_events(retention_days=audit_days)
    click.echo(f"Deleted {pruned} audit events older than {audit_days} days.")
    expired = purge_challenges()
    click.echo(f"Deleted {expired} expired passkey challenges.")
    expired = purge_expired_sign_ins()
    click.echo(f"Deleted {expired} expired provider sign-in codes and states.")


@auth_cli.command("doctor")
def doctor():
    """Print the production checks, pass or fail; exit 1 on a failure in production."""
    app_env = current_app.config["APP_ENV"]
    # gunicorn checks its real worker count when it starts; here, what it would use.
    checks = settings_checks(
        current_app.config, workers=current_app.config["WEB_CONCURRENCY"]
    )
    click.echo(f"APP_ENV={app_env}")
    for check in checks:
        status = "PASS" if check.ok else "FAIL"
        click.echo(f"{status}  {check.setting:<24} {check.message}")
    failed = sum(not check.ok for check in checks)
    if not failed:
        click.echo("All checks pass.")
    elif app_env == "production":
        click.echo(f"{failed} check(s) fail: the app refuses to start in production.")
        raise SystemExit(1)
    else:
        click.echo(f"{failed} check(s) would fail in production (advice only here).")


def fail_with(error):
    """Turn a service error into a clear CLI error (exit code 1)."""
    if isinstance(error, ValidationError):
        messages = error.messages
    else:
        messages = error.details or {}
    lines = [
        f"  {name}: {' '.join(problems)}" for name, problems in sorted(messages.items())
    ]
    head = getattr(error, "message", "Invalid input.")
    code = getattr(error, "code", "validation_error")
    raise click.ClickException("\n".join([f"{head} ({code})", *lines]))


@users_cli.command("create")
@click.option("--email", prompt=True, help="The account's email address.")
@click.option("--name", prompt=True, help="The account's display name.")
@click.option("--verified", is_flag=True, help="Mark the email address as verified.")
def create_user(email, name, verified):
    """Create an account; the password is prompted twice and never echoed."""
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        body = RegisterSchema().load(
            {"name": name, "email": email, "password": password}
        )
        user = admin.create_account(**body, verified=verified)
    except (ApiError, ValidationError) as error:
        fail_with(error)
    click.echo(f"Created account {user.email} (id {user.id}).")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate_user(email):
    """Disable an account and end all its sessions (reason: deactivated)."""
    try:
        user, revoked = admin.deactivate_account(email=email)
    except ApiError as error:
        fail_with(error)
    click.echo(f"Deactivated {user.email}; {revoked} session(s) revoked.")


@users_cli.command("activate")
@click.argument("email")
def activate_user(email):
    """Enable a deactivated account again (its old sessions stay ended)."""
    try:
        user = admin.activate_account(email=email)
    except ApiError as error:
        fail_with(error)
    click.echo(f"Activated {user.email}.")


def role_command(email, role):
    try:
        user, revoked = admin.set_role(email=email, role=role)
    except ApiError as error:
        fail_with(error)
    except admin.LastAdmin:
        raise click.ClickException(
            f"{email} is the last active admin; promote another account first"
        ) from None
    if revoked is None:
        click.echo(f"{user.email} is {role} already.")
    else:
        click.echo(f"{user.email} is now {role}; {revoked} session(s) ended.")


@users_cli.command("promote")
@click.argument("email")
def promote_user(email):
    """Make an account an admin; its sessions end (tokens carry the role)."""
    role_command(email, ROLE_ADMIN)


@users_cli.command("demote")
@click.argument("email")
def demote_user(email):
    """Make an admin a plain user; its sessions end. The last admin stays."""
    role_command(email, ROLE_USER)


def echo_demo_accounts(accounts):
    for account in accounts:
        if account.password is None:
            click.echo(f"{account.email}  (exists already; password unchanged)")
        else:
            click.echo(f"{account.email}  {account.password}")


@users_cli.command("seed-demo")
@click.option(
    "--count",
    default=admin.DEMO_ACCOUNT_COUNT,
    show_default=True,
    help="How many accounts.",
)
@click.option(
    "--allow-testing",
    is_flag=True,
    help="Also run with APP_ENV=testing (for the test suite). Production: never.",
)
def seed_demo(count, allow_testing):
    """Development only: create demo accounts and print their credentials."""
    try:
        accounts = admin.seed_demo_accounts(count=count, allow_testing=allow_testing)
    except (admin.NotAllowedHere, ValueError) as error:
        raise click.ClickException(str(error)) from None
    echo_demo_accounts(accounts)


@dev_cli.command("reset")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--allow-testing",
    is_flag=True,
    help="Also run with APP_ENV=testing (for the test suite). Production: never.",
)
def dev_reset(yes, allow_testing):
    """Empty the database and create the demo accounts; print their credentials."""
    try:
        admin.refuse_outside_development("dev reset", allow_testing=allow_testing)
    except admin.NotAllowedHere as error:
        raise click.ClickException(str(error)) from None
    if not yes:
        click.confirm("Delete every account and all data of this database?", abort=True)
    accounts = admin.reset_database(allow_testing=allow_testing)
    click.echo("Database emptied. Demo accounts:")
    echo_demo_accounts(accounts)


@dev_cli.command("first-start")
def dev_first_start():
    """`make run`: with SEED_DEMO_USERS=true in development, seed an empty database."""
    accounts = admin.seed_demo_on_first_start()
    if accounts:
        click.echo("Demo accounts (SEED_DEMO_USERS):")
        echo_demo_accounts(accounts)


@keys_cli.command("generate")
@click.option(
    "--algorithm",
    type=click.Choice(ASYMMETRIC),
    required=True,
    help="RS256 (RSA 3072), ES256 (P-256) or EdDSA (Ed25519).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory for jwt-private.pem and jwt-public.pem [instance/keys].",
)
@click.option("--force", is_flag=True, help="Overwrite existing key files.")
def generate_keys(algorithm, out, force):
    """Write a new private key (mode 0600) and its public key; print the public key."""
    directory = out or f"{current_app.instance_path}/keys"
    try:
        generated = write_key_pair(
            algorithm=algorithm, directory=directory, force=force
        )
    except FileExistsError as error:
        raise click.ClickException(
            f"{error} exists; pass --force to overwrite it"
        ) from None
    click.echo(f"Private key: {generated.private_path} (mode 0600, keep it secret)")
    click.echo(f"Public key:  {generated.public_path}")
    click.echo(f"kid:         {generated.kid}")
    click.echo(generated.public_pem.rstrip())
    click.echo("Sign with it:")
    click.echo(f"  JWT_ALGORITHM={algorithm}")
    click.echo(f"  JWT_PRIVATE_KEY_FILE={generated.private_path.resolve()}")


maintenance_auth_cli.add_command(doctor)


@mail_cli.command("status")
def mail_status():
    """Count the outbox's mails by status; list the pending and failed ones."""
    counts = store.counts()
    for status in STATUSES:
        click.echo(f"{status:<10} {counts.get(status, 0)}")
    for status in (STATUS_PENDING, STATUS_FAILED):
        rows = store.rows_with_status(status, STATUS_LIST_LIMIT)
        if not rows:
            continue
        shown = f" (oldest {len(rows)})" if counts[status] > len(rows) else ""
        click.echo(f"\n{status.capitalize()}{shown}:")
        for row in rows:
            click.echo(
                f"  {row.id}  {row.kind:<16} to={row.recipient or '-'}"
                f"  attempts={row.attempts}"
                f"  created={row.created_at:%Y-%m-%d %H:%M:%S}"
                + (
                    f"  next={row.next_attempt_at:%Y-%m-%d %H:%M:%S}"
                    if status == STATUS_PENDING
                    else ""
                )
                + f"  error={row.last_error or '-'}"
            )


@mail_cli.command("send")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
def mail_send(once):
    """Run the outbox sender in the foreground (SIGTERM or Ctrl-C stops it)."""
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    if once:
        handled = sender.deliver_due(app)
        click.echo(f"Handled {handled} mail(s).")
        return
    foreground = sender.Sender(app)
    signal.signal(signal.SIGTERM, lambda *_: foreground.stop())
    click.echo(f"Mail sender {foreground.owner} running.")
    try:
        foreground.run()
    except KeyboardInterrupt:
        pass
    click.echo("Mail sender stopped.")


@mail_cli.command("purge")
@click.option(
    "--retention-days", type=int, default=None, help="Keep done mails this long."
)
def mail_purge(retention_days):
    """Delete outbox rows done (sent, failed, discarded) before the retention."""
    days = setting_unless_given(retention_days, "MAIL_RETENTION_DAYS")
    deleted = store.purge(older_than=clock.now() - timedelta(days=days))
    click.echo(f"Deleted {deleted} mails done more than {days} days ago.")


def register_cli(app):
    app.cli.add_command(auth_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(dev_cli)


def register_maintenance_cli(app):
    """Only the commands that report or repair broken settings."""
    app.cli.add_command(maintenance_auth_cli)
    app.cli.add_command(keys_cli)
