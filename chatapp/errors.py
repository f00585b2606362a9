"""Errors answer JSON to the API and HTML to pages; a 500 rolls the session back."""
from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .extensions import db, login_manager
from .services.errors import ServiceError
from .services.uploads import file_too_large_error, too_large_error

MESSAGES = {
    400: lazy_gettext("The request was not understood."),
    401: lazy_gettext("Log in first."),
    403: lazy_gettext("You do not have access to this page."),
    404: lazy_gettext("There is nothing here."),
    405: lazy_gettext("That method is not allowed here."),
    413: lazy_gettext("That upload is too large."),
    429: lazy_gettext("Too many requests. Wait a minute and try again."),
    500: lazy_gettext("Something went wrong on our side. Try again in a moment."),
}

# The heading of each error page; other statuses show their number.
TITLES = {
    400: lazy_gettext("That did not work"),
    401: lazy_gettext("Log in first"),
    403: lazy_gettext("No access"),
    404: lazy_gettext("Page not found"),
    413: lazy_gettext("Too large"),
    429: lazy_gettext("Slow down a little"),
    500: lazy_gettext("Something went wrong"),
}

CODES = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "invalid", 409: "conflict",
         413: "too_large", 429: "rate_limited"}


def wants_json() -> bool:
    """API routes and JSON-asking clients get JSON errors."""
    return (
        request.path.startswith(("/api/", "/widget/api/"))
        or request.endpoint in ("messaging.upload", "messaging.serve_upload")  # pictures, fetched by script
        or request.accept_mimetypes.best == "application/json"
    )


def _settle_current_user() -> None:
    """Load the current user for the page's top bar; when that fails (a broken database), show a visitor's bar."""
    try:
        current_user.is_authenticated  # noqa: B018 - loads the user, from the database
    except Exception:  # noqa: BLE001 - the error page must render whatever broke
        db.session.rollback()
        g._login_user = login_manager.anonymous_user()


def _respond(status: int, code: str, message: str, retry_after: int | None = None):
    if wants_json():
        if retry_after is None:
            return jsonify(ok=False, error=code, message=message), status
        # A wait that the service knows (the socket events' limits): said as the ack says it, and as HTTP does.
        response = jsonify(ok=False, error=code, message=message, retry_after=retry_after)
        response.headers["Retry-After"] = str(retry_after)
        return response, status
    _settle_current_user()
    title = str(TITLES.get(status, status))
    return render_template("errors/error.html", status=status, title=title, message=message), status


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on app."""

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        db.session.rollback()
        return _respond(error.http_status, error.code, error.message, error.extra.get("retry_after"))

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return _respond(400, "invalid", gettext("Your form expired. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        message = str(MESSAGES[status]) if status in MESSAGES else error.description or ""
        if status == 429:
            message = gettext("Too many attempts. Wait a minute and try again (%(limit)s).", limit=error.description)
        if status == 413:
            refusal = file_too_large_error if request.endpoint == "messaging.upload" else too_large_error
            message = refusal(request.content_length).message  # says the limit
        return _respond(status, CODES.get(status, "invalid"), message)

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s", request.path)
        _settle_current_user()  # before any text: the locale may come from the user's settings
        return _respond(500, "invalid", str(MESSAGES[500]))
