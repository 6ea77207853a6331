"""Application factory: the one place the app is assembled."""

from flask import Flask

from app.admin import bp as admin_bp
from app.auth import bp as auth_bp
from app.auth.devices import register_device_key
from app.auth.jwks import bp as jwks_bp
from app.auth.jwks import register_signing_keys
from app.auth.passwords import register_bcrypt_gate
from app.auth.revocation_feed import register_poll_seats
from app.auth.revocation_routes import bp as revocations_bp
from app.auth.secret_box import register_secret_box
from app.auth.tokens import register_token_keys
from app.cli import register_cli, register_maintenance_cli
from app.compat import enabled_mounts, enabled_tags
from app.cors import register_cors
from app.database import configure_engine
from app.dev_mock import register_dev_mock
from app.errors import register_error_handlers, register_error_shape
from app.extensions import db, migrate
from app.guard import enforce_production_settings, warn_about_generated_secrets
from app.http import NoCookieSession, assign_request_id, finish_response
from app.logs import setup_logging
from app.oauth import bp as oauth_bp
from app.oauth import identities_bp
from app.oauth.providers import register_providers
from app.observability import register_observability
from app.observability.health import health
from app.observability.metrics import metrics_served, metrics_view
from app.openapi import bp as openapi_bp
from app.openapi.spec import EXTRA_TAGS
from app.outages import register_outage_handling
from app.ratelimit import register_rate_limits, trust_proxies
from app.security_headers import register_security_headers
from app.users import bp as users_bp
from config import BASE_DIR, INSTANCE_DIR, load_config


def create_app(overrides=None):
    """Build the app: config, extensions, blueprints, error handlers, commands."""
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), static_folder=None)
    app.config.from_mapping(load_config(overrides))
    setup_logging(app)
    enforce_production_settings(app.config)
    warn_about_generated_secrets(app.config)
    register_extensions(app)
    register_signing_keys(app)
    register_token_keys(app)
    register_secret_box(app)
    register_device_key(app)
    register_bcrypt_gate(app)
    register_poll_seats(app)
    register_providers(app)
    register_request_hooks(app)
    register_security_headers(app)
    register_cors(app)
    register_observability(app)
    trust_proxies(app)
    register_routes(app)
    register_rate_limits(app)
    register_error_handlers(app)
    register_cli(app)
    register_dev_mock(app)
    return app


def create_maintenance_app(overrides=None):
    """The app of `flask --app maintenance auth doctor` and `... keys generate`.

    It starts on settings `create_app` refuses (unsafe production settings, unusable
    signing keys), to report or repair them: it has those two commands only, and no
    routes, database or keys, so it can neither serve requests nor change data.
    """
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), static_folder=None)
    app.config.from_mapping(load_config(overrides))
    setup_logging(app)
    register_maintenance_cli(app)
    return app


def register_extensions(app):
    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    with app.app_context():
        configure_engine(db.engine)
        register_outage_handling(app, db.engine)


def register_request_hooks(app):
    app.session_interface = NoCookieSession()
    app.before_request(assign_request_id)
    app.after_request(finish_response)


def register_routes(app):
    """Every route of the app, registered here and nowhere else."""
    app.register_blueprint(auth_bp, url_prefix="/api/v1/auth")
    app.register_blueprint(oauth_bp, url_prefix="/api/v1/auth/oauth")
    app.register_blueprint(users_bp, url_prefix="/api/v1/users")
    app.register_blueprint(identities_bp, url_prefix="/api/v1/users/me/identities")
    app.register_blueprint(admin_bp, url_prefix="/api/v1/admin")
    app.register_blueprint(jwks_bp)  # /.well-known/jwks.json
    app.register_blueprint(revocations_bp)  # /.well-known/revocations
    app.register_blueprint(openapi_bp)  # /api/v1/openapi.json and /docs
    # Compatibility profiles (docs/compat.md): only those COMPAT_PROFILES names.
    for mount in enabled_mounts(app.config):
        app.register_blueprint(mount.blueprint, url_prefix=mount.url_prefix)
        register_error_shape(app, mount.blueprint.name, mount.render_error)
    app.extensions[EXTRA_TAGS] = enabled_tags(app.config)
    # Outside /api/v1: load balancers, orchestrators and Prometheus call these.
    app.add_url_rule("/health", "health", health, methods=["GET"])
    if metrics_served(app.config):
        app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])
