"""The admin blueprint itself: its views live in routes.py, sites.py, teams.py, labels.py."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
