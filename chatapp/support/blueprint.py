"""The support blueprint itself: its views live in routes.py, widget.py."""
from flask import Blueprint

bp = Blueprint("support", __name__, url_prefix="/support")
# Served to website visitors, on the root: the loader's URL is in every embed snippet.
widget_bp = Blueprint("widget", __name__)
