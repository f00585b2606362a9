"""The api blueprint itself: its views live in routes.py."""
from flask import Blueprint, current_app
from flask_limiter.util import get_remote_address
from flask_login import current_user

from ..extensions import csrf, limiter
from .auth import check_credentials

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# CSRF is checked by check_credentials: for a session's POSTs, never for a request with a token.
csrf.exempt(bp)
bp.before_request(check_credentials)


def _api_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def _api_caller() -> str:
    """Count per account, so that a class on one school address does not share one budget."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{get_remote_address()}"


limiter.limit(_api_limit, key_func=_api_caller)(bp)
