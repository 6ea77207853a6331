"""Extensions, created unbound; `create_app` binds them."""

import click
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class LazyMigrate:
    """Flask-Migrate, imported when a `flask db` command (or a test) first uses it.

    It brings alembic, mako and pygments (about 11 MB per process); the web
    workers never run a migration, so they never load them.
    """

    def init_app(self, app, db, **options):
        app.extensions["migrate"] = _LazyMigrateConfig(app, db, options)
        app.cli.add_command(
            _LazyMigrateCommands("db", help="Perform database migrations.")
        )


class _LazyMigrateCommands(click.Group):
    """`flask db ...`: flask-migrate's own command group, imported when invoked."""

    def make_context(self, info_name, args, parent=None, **extra):
        from flask_migrate.cli import db

        return db.make_context(info_name, args, parent=parent, **extra)


class _LazyMigrateConfig:
    def __init__(self, app, db, options):
        self._app, self._db, self._options = app, db, options

    def __getattr__(self, name):
        from flask_migrate import Migrate

        # Puts flask-migrate's own config in app.extensions["migrate"] for next time.
        Migrate().init_app(self._app, self._db, **self._options)
        return getattr(self._app.extensions["migrate"], name)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects keep their values after a commit: answers are built from what was just
# written, without a reload that would open a new transaction (and, on SQLite, take
# the write lock again) until the request ends.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = LazyMigrate()
