"""chatapp: real-time chat for a classroom, a support desk and its website widget."""
from __future__ import annotations

import functools
import os
from typing import Any

from flask import Flask, request
from flask_babel import lazy_gettext
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .cluster import init_presence
from .config import PROJECT_ROOT, Config, load_or_create_secret_key
from .extensions import csrf, db, limiter, login_manager, migrate, socketio
from .headers import security_headers
from .sockets import register_handlers
from .transport import SocketSessionInterface, allow_polling_batches, refuse_websocket_compression

# Connections kept open to a SQLite file (SQLAlchemy's QueuePool; its max_overflow of 10 stays).
SQLITE_POOL_SIZE = 20


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, socket events, commands."""
    app = Flask(__name__, instance_path=os.path.join(PROJECT_ROOT, "instance"), instance_relative_config=True)
    app.config.from_object(Config)
    app.config.from_pyfile("config.py", silent=True)
    if config:
        app.config.update(config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret_key(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "chatapp.sqlite3")
    if _is_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"]):
        # More pooled connections than SQLAlchemy's 5: more green threads than that hold one at
        # once under load, and each connection beyond the pool was opened (with its PRAGMAs)
        # and closed again per event (docs/performance.md). Configured options win.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_size": SQLITE_POOL_SIZE, **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})
        }
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        # No request body may be larger than a picture plus its form: refused before it is read.
        app.config["MAX_CONTENT_LENGTH"] = app.config["UPLOAD_MAX_BYTES"] + 1024 * 1024

    # Registered before CSRFProtect, which reads the form: the upload door alone takes a file's size.
    app.before_request(_upload_body_limit)
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, directory=os.path.join(PROJECT_ROOT, "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    from .i18n import init_i18n

    init_i18n(app)
    _init_login(app)
    socketio.init_app(
        app,
        max_http_buffer_size=app.config["SOCKETIO_MAX_HTTP_BUFFER_SIZE"],
        ping_interval=app.config["SOCKETIO_PING_INTERVAL"],
        ping_timeout=app.config["SOCKETIO_PING_TIMEOUT"],
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE"),
        # Several processes: each publishes its emits to the others through this queue.
        message_queue=app.config.get("SOCKETIO_MESSAGE_QUEUE"),
        # Against cross-site WebSocket hijacking: the app's own origin, plus those configured.
        cors_allowed_origins=functools.partial(origin_allowed, extra=tuple(app.config["SOCKETIO_ALLOWED_ORIGINS"])),
    )
    # After init_app: each app's Socket.IO server gets every handler (chatapp/sockets/).
    register_handlers(socketio)
    app.session_interface = SocketSessionInterface()
    init_presence(app)
    allow_polling_batches(app.config["SOCKETIO_MAX_HTTP_BUFFER_SIZE"])
    if not app.config["SOCKETIO_WEBSOCKET_COMPRESSION"]:
        # Outside the Socket.IO middleware, so that its WebSocket server never sees the offer.
        # Flask's documented way to add a WSGI middleware; mypy reads wsgi_app as a method, not a callable.
        app.wsgi_app = refuse_websocket_compression(app.wsgi_app)  # type: ignore[method-assign,assignment]
    if app.config["BEHIND_PROXY"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Outside the Socket.IO middleware, so that its origin check and the handshake
        # limit see the client's scheme, host and address rather than the proxy's.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    from .admin import bp as admin_bp
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .cli import register_commands
    from .errors import register_error_handlers
    from .main import bp as main_bp
    from .messaging import bp as messaging_bp
    from .rooms import bp as rooms_bp
    from .support import bp as support_bp
    from .support import widget_bp
    from .worker import work  # noqa: F401 - its imports register every kind of outbox job, in every process

    app.register_blueprint(main_bp)
    app.register_blueprint(messaging_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(rooms_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(support_bp)
    app.register_blueprint(widget_bp)
    register_error_handlers(app)
    register_commands(app)
    app.after_request(security_headers)
    app.context_processor(_limits_context)
    return app


def _upload_body_limit() -> None:
    """Let the upload door read bodies as large as a file (FILE_MAX_BYTES), every other door MAX_CONTENT_LENGTH."""
    if request.endpoint == "messaging.upload":
        from .services.uploads import max_request_bytes

        request.max_content_length = max_request_bytes()


def _limits_context() -> dict[str, Any]:
    """Templates get the limits the server enforces, so that pages and their scripts read them, never restate them."""
    from .services.messages import MAX_BODY_LENGTH
    from .services.uploads import accepted_types

    return {"max_body_length": MAX_BODY_LENGTH, "upload_accept": accepted_types}


def _is_sqlite_file(url: str) -> bool:
    """Whether url names a SQLite database file (not an in-memory one, which has a pool of its own)."""
    return url.startswith("sqlite") and url not in ("sqlite://", "sqlite:///") and ":memory:" not in url


def origin_allowed(origin: str | None, environ: dict, *, extra: tuple[str, ...] = ()) -> bool:
    """Whether a browser page at `origin` may open a Socket.IO connection here."""
    if origin is None:  # not a browser: nothing cross-site to defend against
        return True
    own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
    return origin == own or origin in extra


def _init_login(app: Flask) -> None:
    from .api.auth import load_session_user, load_user_from_request

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Log in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_session_user)
    # An API request's Bearer token (chatapp/api/auth.py); nothing on any other path.
    login_manager.request_loader(load_user_from_request)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """WAL lets readers go on while one writer commits; foreign keys are off in SQLite unless asked."""
    module = type(dbapi_connection).__module__
    if "sqlite" not in module:
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    # NORMAL in WAL mode: a commit survives a crash of the process (SIGKILL) but may be
    # lost on power failure of the machine; see docs/architecture.md.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
