"""A poll's results as a CSV file, for the room's moderators; the rules are services/polls.py's."""
from __future__ import annotations

from flask import Response
from flask_login import current_user, login_required

from ..services import polls as poll_service
from ..services import rooms as room_service
from .blueprint import bp


@bp.get("/rooms/<slug>/polls/<int:poll_id>/results.csv")
@login_required
def poll_results(slug: str, poll_id: int):
    """The poll's counts per option and, unless it is anonymous, who chose what."""
    room = room_service.get_room(slug)
    text = poll_service.results_csv(actor=current_user, room=room, poll_id=poll_id)
    response = Response("\ufeff" + text, mimetype="text/csv")  # the BOM: spreadsheets then read UTF-8 (Chinese)
    response.headers["Content-Disposition"] = f'attachment; filename="poll-{poll_id}.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
