"""A class's attendance, page and CSV; the rules are services/attendance.py's."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..services import attendance as attendance_service
from ..services import rooms as room_service
from ..services.errors import ServiceError
from .blueprint import bp


@bp.get("/rooms/<slug>/attendance")
@login_required
def attendance_page(slug: str):
    """Who was in the class during a span (a teacher: everyone; a student: their own row), with a form for the span."""
    room = room_service.get_room(slug)
    attendance_service.ensure_can_see_attendance(actor=current_user, room=room)
    start_text, end_text = request.args.get("start"), request.args.get("end")
    error = None
    report = None
    try:
        start, end = attendance_service.parse_span(start=start_text, end=end_text)
        report = attendance_service.attendance_report(actor=current_user, room=room, start=start, end=end)
    except ServiceError as refused:
        if refused.code != "invalid":
            raise
        error = refused.message
    status = 400 if error else 200
    return render_template(
        "rooms/attendance.html", room=room, report=report, error=error, start_text=start_text or "",
        end_text=end_text or "", to_local=attendance_service.to_local,
        timezone=attendance_service.timezone_name(),
        may_download=attendance_service.can_see_whole_class(actor=current_user, room=room),
        lessons=attendance_service.list_lessons(room=room), recent=attendance_service.recent_lessons(room=room),
    ), status


@bp.get("/rooms/<slug>/attendance.csv")
@login_required
def attendance_csv(slug: str):
    """The class's attendance in a span as CSV, for its moderators."""
    room = room_service.get_room(slug)
    attendance_service.ensure_can_download(actor=current_user, room=room)
    start, end = attendance_service.parse_span(start=request.args.get("start"), end=request.args.get("end"))
    text = attendance_service.attendance_csv(actor=current_user, room=room, start=start, end=end)
    response = Response("\ufeff" + text, mimetype="text/csv")  # the BOM: spreadsheets then read UTF-8 (Chinese)
    response.headers["Content-Disposition"] = f'attachment; filename="attendance-{room.slug}.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/rooms/<slug>/lessons")
@login_required
def add_lesson(slug: str):
    """Schedule a weekly lesson (a class's moderators), then back to the attendance page."""
    room = room_service.get_room(slug)
    try:
        attendance_service.add_lesson(actor=current_user, room=room, weekday=request.form.get("weekday"),
                                      start=request.form.get("start"), duration=request.form.get("duration"))
    except ServiceError as refused:
        if refused.code != "invalid":
            raise
        flash(refused.message, "error")
    else:
        flash(_("The weekly lesson is scheduled."))
    return redirect(url_for("rooms.attendance_page", slug=room.slug))


@bp.post("/rooms/<slug>/lessons/<int:lesson_id>/delete")
@login_required
def remove_lesson(slug: str, lesson_id: int):
    """Remove a weekly lesson (a class's moderators)."""
    room = room_service.get_room(slug)
    attendance_service.remove_lesson(actor=current_user, room=room, lesson_id=lesson_id)
    flash(_("The weekly lesson is removed."))
    return redirect(url_for("rooms.attendance_page", slug=room.slug))
