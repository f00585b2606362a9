"""The main blueprint itself: its views live in routes.py and theme.py."""
from flask import Blueprint

bp = Blueprint("main", __name__)
