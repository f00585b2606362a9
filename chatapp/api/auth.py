"""Whom an API request acts for: the account of its Bearer token (within the token's scopes), or a browser's session.

On /api/ a request that carries `Authorization` is judged by its token alone: the session
cookie is not read, and the request needs no CSRF token (a page on another site cannot make a
browser send this header). A request without it is a browser's, and its POSTs keep CSRF.
"""
from __future__ import annotations

import functools
from typing import Callable

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from ..extensions import csrf
from ..models import ApiToken, User
from ..services import api_tokens
from ..services.accounts import load_user_by_session_id
from ..services.errors import ServiceError

API_PATH = "/api/"


def bearer_secret() -> str | None:
    """The secret an /api/ request carries in Authorization ("" when the header is not "Bearer SECRET"), else None."""
    if not request.path.startswith(API_PATH):
        return None
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _space, secret = header.strip().partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def load_user_from_request(_request) -> User | None:
    """Flask-Login's request loader: the account of the request's good Bearer token (the token kept in g), or None.

    Silent: why a token is refused is said by check_credentials, once the request's language is known.
    """
    secret = bearer_secret()
    token = api_tokens.usable_token(secret) if secret is not None else None
    if token is None:
        return None
    g.api_token = token
    return token.user


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's user loader: the session's account, except on an API request that brought a token."""
    if bearer_secret() is not None:
        return None
    return load_user_by_session_id(session_id)


def request_token() -> ApiToken | None:
    """The token this request came with (None: a browser's session, or nobody)."""
    return g.get("api_token")


def check_credentials() -> None:
    """Before every API view: a token must be good; without one, a session's POST must carry its CSRF token."""
    secret = bearer_secret()
    if secret is None:
        # Only a logged-in session has anything to forge; anonymous requests are refused by the view (401).
        if current_user.is_authenticated and current_app.config.get("WTF_CSRF_ENABLED", True):
            try:
                csrf.protect()
            except CSRFError:
                raise ServiceError("invalid", _(
                    "A request with the session cookie must send its CSRF token (X-CSRFToken); "
                    "integrations send an access token instead."
                )) from None
        return
    if not current_user.is_authenticated or request_token() is None:  # loads the user now: load_user_from_request
        api_tokens.authenticate(secret)  # raises, saying why the token is refused
        raise ServiceError("unauthorized", _("Send either the access token or the session cookie, not both."))


def caller() -> User:
    """The account this API request acts for, or unauthorized."""
    if not current_user.is_authenticated:
        raise ServiceError("unauthorized", _("Log in first."))
    return current_user._get_current_object()


def needs(scope: str) -> Callable:
    """A view that acts for the caller, and, with a token, needs the token's `scope` (a session has every scope)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = caller()
            token = request_token()
            if token is not None:
                api_tokens.require_scope(token, scope)
            return view(user, *args, **kwargs)

        wrapper.api_scope = scope  # type: ignore[attr-defined]  # read by the OpenAPI document
        return wrapper

    return decorate
