"""The admin's pages: accounts and widget sites."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import routes, sites  # noqa: E402,F401
