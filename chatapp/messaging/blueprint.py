"""The messaging blueprint itself: its views live in commands.py, routes.py."""
from flask import Blueprint
from markupsafe import Markup

from ..markup import render_markdown
from ..models import REACTION_USERS_SHOWN
from ..services import reactions

# cli_group: its commands are `flask --app wsgi uploads ...` (commands.py).
bp = Blueprint("messaging", __name__, cli_group="uploads")


@bp.app_template_filter("markdown")
def markdown_filter(body: str) -> Markup:
    """A message body as the sanitized HTML of the safe Markdown subset (the same function as MESSAGE's html)."""
    return Markup(render_markdown(body or ""))  # safe: nh3 let through only the subset's tags and URL schemes


@bp.app_template_global("reaction_label")
def reaction_label(group: dict) -> str:
    """A reaction button's accessible name: "👍 3: Alice, Bob and 1 other"."""
    return reactions.reaction_label(group)


@bp.app_template_global("reaction_title")
def reaction_title(group: dict) -> str:
    """A reaction button's title: everyone REACTIONS names who gave it, and how many more."""
    return reactions.reacted_by(group, most=REACTION_USERS_SHOWN)
