"""Hearth: the application factory."""

import os
from pathlib import Path

from flask import Flask, g, request, session
from flask_babel import get_locale
from werkzeug.middleware.proxy_fix import ProxyFix

from app import db as database
from app import extensions
from app.config import Config, ensure_secret_key, instance_path, private_file, secure_folder
from app.extensions import (
    attach_job_storage,
    babel,
    csrf,
    db,
    huey,
    login_manager,
    migrate,
)


def create_app(config: type | dict | None = None) -> Flask:
    folder = instance_path()
    app = Flask(__name__, instance_path=folder, instance_relative_config=True)
    app.config.from_object(Config)
    testing = bool(
        (isinstance(config, dict) and config.get("TESTING"))
        or (
            config is not None
            and not isinstance(config, dict)
            and getattr(config, "TESTING", False)
        )
    )
    if not testing:
        # Whatever this process writes (database, queue, backups, imported sheets, logs)
        # is for the app's own user only.
        os.umask(0o077)
        ensure_secret_key(folder)
        app.config.from_pyfile("config.py", silent=True)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    secure_folder(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            f"sqlite:///{Path(app.instance_path) / 'hearth.sqlite'}"
        )
    app.config["SQLALCHEMY_DATABASE_URI"] = database.normalise_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    sqlite_file = database.sqlite_file_of_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if sqlite_file:
        private_file(sqlite_file)  # before SQLite creates it with the umask's mode
    if database.dialect_of_url(app.config["SQLALCHEMY_DATABASE_URI"]) == "postgresql":
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = database.engine_options(
            app.config["SQLALCHEMY_DATABASE_URI"], app.config["SQLITE_BUSY_TIMEOUT_MS"]
        )
    # Proxy headers are only believed when a proxy is known to be in front (deploy/ sets
    # HEARTH_PROXY_COUNT=1 for nginx); otherwise anyone could pick their own address.
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    _init_extensions(app)
    _register_blueprints(app)
    from app.services.page_cache import PageCache

    # Rendered customer pages (per app, so per web worker process); see services/page_cache.
    app.extensions["page_cache"] = PageCache(app.config.get("PAGE_CACHE_BYTES", 16 * 1024 * 1024))

    from app import cli, errors, templating
    from app.htmx import install_vary_header
    from app.security import install_input_guard, install_security_headers

    errors.register(app)
    cli.register(app)
    templating.register(app)
    install_security_headers(app)
    install_input_guard(app)
    install_vary_header(app)
    return app


def _select_locale() -> str:
    from flask import current_app
    from flask_login import current_user

    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    match = request.accept_languages.best_match(
        ["en", "zh-TW", "zh-Hant", "zh-HK", "zh"], default=None
    )
    if match:
        return "en" if match == "en" else "zh_Hant"
    return _shop_setting("default_locale") or current_app.config["BABEL_DEFAULT_LOCALE"]


def _select_timezone() -> str:
    return _shop_setting("timezone") or "Asia/Taipei"


def _shop_setting(name: str):
    from app.services.shop import get_shop

    if "shop" not in g:
        g.shop = get_shop(db.session)
    return getattr(g.shop, name)


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    from app.services.search import include_in_migrations, include_object_in_migrations

    migrate.init_app(
        app, db, render_as_batch=True, include_name=include_in_migrations,
        include_object=include_object_in_migrations,
    )  # fmt: skip
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=_select_timezone)
    # Not imported by name: the submodule app.htmx would shadow it in this package.
    extensions.htmx.init_app(app)

    with app.app_context():
        database.configure(
            db.engine,
            app.config["SQLITE_BUSY_TIMEOUT_MS"],
            strict_writes=app.config.get("SQLITE_STRICT_WRITES", False),
        )
        database.check(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])

    attach_job_storage(app)
    app.extensions["hearth_huey"] = huey

    from app.services.privacy import install_erasure_guard
    from app.services.search import install_reindex_hook

    install_reindex_hook()
    install_erasure_guard()

    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"

    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please sign in to see that page.")
    login_manager.login_message_category = "info"

    @login_manager.unauthorized_handler
    def _unauthorized():
        from flask import flash, redirect, url_for

        from app.htmx import client_redirect

        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        if extensions.htmx:
            return client_redirect(target)
        flash(str(login_manager.login_message), login_manager.login_message_category)
        return redirect(target)

    @login_manager.user_loader
    def _load_user(token: str):
        from app.services.accounts import load_user_by_session

        return load_user_by_session(db.session, token)

    app.jinja_env.globals["get_locale"] = get_locale


def _register_blueprints(app: Flask) -> None:
    from app.blueprints.auth import bp as auth_bp
    from app.blueprints.booking_money import bp as booking_money_bp
    from app.blueprints.calendar import bp as calendar_bp
    from app.blueprints.campaigns import bp as campaigns_bp
    from app.blueprints.customers import bp as customers_bp
    from app.blueprints.enquiries import bp as enquiries_bp
    from app.blueprints.home import bp as main_bp
    from app.blueprints.home import today_bp
    from app.blueprints.imports import bp as imports_bp
    from app.blueprints.labels import bp as labels_bp
    from app.blueprints.privacy import bp as privacy_bp
    from app.blueprints.purchases import bp as purchases_bp
    from app.blueprints.reminders import bp as reminders_bp
    from app.blueprints.reports import bp as reports_bp
    from app.blueprints.search import bp as search_bp
    from app.blueprints.segments import bp as segments_bp
    from app.blueprints.settings import bp as settings_bp
    from app.blueprints.staff import bp as staff_bp
    from app.blueprints.stays import bp as stays_bp
    from app.blueprints.tags import bp as tags_bp
    from app.blueprints.timeline import bp as timeline_bp
    from app.blueprints.webhooks import bp as webhooks_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(staff_bp, url_prefix="/staff")
    app.register_blueprint(settings_bp, url_prefix="/settings")
    app.register_blueprint(customers_bp, url_prefix="/customers")
    app.register_blueprint(purchases_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(stays_bp)
    app.register_blueprint(booking_money_bp)
    app.register_blueprint(tags_bp, url_prefix="/tags")
    app.register_blueprint(timeline_bp)
    app.register_blueprint(reminders_bp)
    app.register_blueprint(today_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(segments_bp, url_prefix="/segments")
    app.register_blueprint(search_bp)
    app.register_blueprint(campaigns_bp)
    app.register_blueprint(labels_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(enquiries_bp)
