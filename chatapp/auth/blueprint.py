"""The auth blueprint itself: its views live in routes.py."""
from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")
