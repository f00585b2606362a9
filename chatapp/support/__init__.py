"""The support desk: the agent console under /support, and the website widget (/widget.js, /widget/…)."""
from flask import Blueprint

bp = Blueprint("support", __name__, url_prefix="/support")
# Served to website visitors, on the root: the loader's URL is in every embed snippet.
widget_bp = Blueprint("widget", __name__)

from . import routes, widget  # noqa: E402,F401
