"""The JSON HTTP API (version 1), for clients that do not speak Socket.IO."""
from flask import Blueprint, current_app

from ..extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _api_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


limiter.limit(_api_limit)(bp)

from . import routes  # noqa: E402,F401
