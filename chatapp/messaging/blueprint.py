"""The messaging blueprint itself: its views live in commands.py, routes.py."""
from flask import Blueprint
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
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


@bp.app_template_filter("file_size")
def file_size_filter(size: int) -> str:
    """A file's size as people read it: "512 bytes", "1.5 KB", "12 MB" (messaging.js's fileSize() says the same)."""
    if size < 1024:
        return ngettext("%(num)d byte", "%(num)d bytes", size)
    unit, value = ("KB", size / 1024) if size < 1024 * 1024 else ("MB", size / (1024 * 1024))
    number = format_decimal(value, format="#,##0.#" if value < 10 else "#,##0")
    return _("%(number)s KB", number=number) if unit == "KB" else _("%(number)s MB", number=number)

@bp.app_template_global("reaction_label")
def reaction_label(group: dict) -> str:
    """A reaction button's accessible name: "👍 3: Alice, Bob and 1 other"."""
    return reactions.reaction_label(group)


@bp.app_template_global("reaction_title")
def reaction_title(group: dict) -> str:
    """A reaction button's title: everyone REACTIONS names who gave it, and how many more."""
    return reactions.reacted_by(group, most=REACTION_USERS_SHOWN)
