"""The end of term, page and doors: a room's exports (start one, watch it, download it) and
archiving or restoring a class. The rules are services/archive.py's and services/room_export.py's."""
from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..services import archive as archive_service
from ..services import room_export
from ..services import rooms as room_service
from .blueprint import bp
from .forms import ArchiveForm


@bp.get("/rooms/<slug>/archive")
@login_required
def archive_page(slug: str):
    """A room's exports with their progress, and (for a class's teacher) archive or restore."""
    room = room_service.get_room(slug)
    exports = room_export.list_exports(actor=current_user, room=room)
    return render_template(
        "rooms/archive.html", room=room, exports=exports, form=ArchiveForm(),
        may_archive=archive_service.can_archive(actor=current_user, room=room),
    )


@bp.post("/rooms/<slug>/exports")
@login_required
def start_export(slug: str):
    """Start an export (or find the one under way) and go back to the page, which shows its progress."""
    room = room_service.get_room(slug)
    if ArchiveForm().validate_on_submit():
        room_export.request_export(actor=current_user, room=room)
    return redirect(url_for("rooms.archive_page", slug=room.slug))


@bp.get("/rooms/<slug>/exports/<int:export_id>")
@login_required
def export_status(slug: str, export_id: int):
    """How far an export is (EXPORT), for the page to follow."""
    room = room_service.get_room(slug)
    return jsonify({"ok": True, "export": room_export.get_export(actor=current_user, room=room,
                                                                 export_id=export_id).to_dict()})


@bp.get("/rooms/<slug>/exports/<int:export_id>/download")
@login_required
def export_download(slug: str, export_id: int):
    """The finished zip, for the room's moderators only."""
    room = room_service.get_room(slug)
    path, name = room_export.export_file(actor=current_user, room=room, export_id=export_id)
    response = send_file(path, mimetype="application/zip", as_attachment=True, download_name=name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/rooms/<slug>/archived")
@login_required
def set_archived(slug: str):
    """Archive the class (archived=1) or restore it (archived=0)."""
    room = room_service.get_room(slug)
    form = ArchiveForm()
    if form.validate_on_submit():
        archived = form.archived.data == "1"
        archive_service.set_archived(actor=current_user, room=room, archived=archived)
        flash(_("The class is archived: it is read-only now.") if archived else _("The class is restored."))
    return redirect(url_for("rooms.archive_page", slug=room.slug))
