"""Views of a class's homework: the list of assignments, and one assignment (a student's hand-in form and
feedback, or the teacher's table of students); the rules are services/homework.py's."""
from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..markup import render_markdown
from ..models import utcnow
from ..services import homework
from ..services import rooms as room_service
from ..services import uploads as upload_service
from ..services.class_time import class_time_zone
from ..services.errors import ServiceError
from .blueprint import bp
from .forms import AssignmentForm, FeedbackForm, HandInForm, RemindForm


def _viewer():
    """The signed-in user itself (not the proxy): services hand it to the session."""
    return current_user._get_current_object()


@bp.app_template_filter("due_local")
def due_local_filter(moment: datetime) -> str:
    """A UTC time as the homework time zone's YYYY-MM-DD HH:MM."""
    return homework.due_in_zone(moment).replace("T", " ")


@bp.app_template_filter("time_left")
def time_left_filter(moment: datetime) -> str:
    """How long until a UTC time, in words of the viewer's language ("3 days")."""
    return format_timedelta(moment - utcnow(), threshold=1.0)


def _uploaded_ids(field_name: str, room) -> list[int]:
    """Store each file of a form's file field as the viewer's upload to room (services/uploads.py); their ids."""
    ids = []
    for upload in request.files.getlist(field_name):
        if upload and upload.filename:
            data = upload.stream.read(upload_service.max_request_bytes())
            ids.append(upload_service.store_upload(uploader=_viewer(), room=room, data=data,
                                                   filename=upload.filename).attachment.id)
    return ids


@bp.route("/rooms/<slug>/assignments", methods=["GET", "POST"])
@login_required
def assignments(slug: str):
    """The class's assignments with their due times; a teacher's form to set a new one."""
    room = room_service.get_room(slug)
    items = homework.list_assignments(user=_viewer(), room=room)
    may = homework.capabilities(user=_viewer(), room=room)
    form = AssignmentForm()
    status = 200
    if may["may_set"] and form.validate_on_submit():
        try:
            spec = homework.check_assignment(title=form.title.data, instructions=form.instructions.data or "",
                                             due=form.due.data, allow_late=bool(form.allow_late.data))
            ids = _uploaded_ids(form.files.name, room)
            assignment = homework.create_assignment(actor=_viewer(), room=room, spec=spec, attachments=ids)
        except ServiceError as error:
            form.title.errors = [*form.title.errors, error.message]
            status = error.http_status
        else:
            return redirect(url_for("rooms.assignment", slug=room.slug, assignment_id=assignment.id), 303)
    elif form.is_submitted():
        status = 400
        homework.ensure_can_set(actor=_viewer(), room=room)  # a refused viewer's post: the service's reason
    return render_template("rooms/assignments.html", room=room, items=items, form=form, may=may,
                           zone=class_time_zone().key), status


@bp.route("/rooms/<slug>/assignments/<int:assignment_id>", methods=["GET", "POST"])
@login_required
def assignment(slug: str, assignment_id: int):
    """One assignment: a student's hand-in and feedback, or the teacher's table of the class's students."""
    room = room_service.get_room(slug)
    item = homework.get_assignment(user=_viewer(), room=room, assignment_id=assignment_id)
    may = homework.capabilities(user=_viewer(), room=room, assignment=item)
    form = HandInForm()
    status = 200
    if form.validate_on_submit():
        try:
            ids = _uploaded_ids(form.files.name, room) if may["may_hand_in"] else []
            keep = [int(value) for value in request.form.getlist("keep_file") if value.isdigit()]
            homework.hand_in(student=_viewer(), room=room, assignment_id=item.id, text=form.text.data or "",
                             attachments=keep + ids)
        except ServiceError as error:
            form.text.errors = [*form.text.errors, error.message]
            status = error.http_status
        else:
            flash(_("Handed in."))
            return redirect(url_for("rooms.assignment", slug=room.slug, assignment_id=item.id), 303)
    mine = None if may["may_review"] else homework.own_hand_in(student=_viewer(), room=room,
                                                                assignment_id=item.id)
    if mine is not None and not form.is_submitted():
        form.text.data = mine.text
    rows = homework.roster(actor=_viewer(), room=room, assignment_id=item.id) if may["may_review"] else []
    return render_template(
        "rooms/assignment.html", room=room, item=item, may=may, form=form, mine=mine, rows=rows,
        message=homework.assignment_message(item), instructions=render_markdown(item.instructions),
        remind_form=RemindForm(), zone=class_time_zone().key,
        due_local=homework.due_in_zone(item.due_at).replace("T", " "),
    ), status


@bp.post("/rooms/<slug>/assignments/<int:assignment_id>/remind")
@login_required
def remind(slug: str, assignment_id: int):
    """Remind each student who has not handed in (at most once per 10 minutes)."""
    room = room_service.get_room(slug)
    form = RemindForm()
    if not form.validate_on_submit():
        raise ServiceError("invalid", _("The form expired; reload the page and try again."))
    try:
        count = homework.remind_missing(actor=_viewer(), room=room, assignment_id=assignment_id)
    except ServiceError as error:
        if error.code != "rate_limited":
            raise
        flash(error.message, "error")
    else:
        flash(_("Reminded %(num)d students.", num=count))
    return redirect(url_for("rooms.assignment", slug=room.slug, assignment_id=assignment_id), 303)


@bp.route("/rooms/<slug>/assignments/<int:assignment_id>/hand-ins/<int:hand_in_id>", methods=["GET", "POST"])
@login_required
def hand_in(slug: str, assignment_id: int, hand_in_id: int):
    """A teacher opens one student's hand-in and returns a comment and a mark to that student."""
    room = room_service.get_room(slug)
    row = homework.get_hand_in(actor=_viewer(), room=room, assignment_id=assignment_id, hand_in_id=hand_in_id)
    item = homework.get_assignment(user=_viewer(), room=room, assignment_id=assignment_id)
    form = FeedbackForm()
    status = 200
    if form.validate_on_submit():
        try:
            homework.comment_hand_in(actor=_viewer(), room=room, assignment_id=assignment_id,
                                     hand_in_id=hand_in_id, comment=form.comment.data, mark=form.mark.data)
        except ServiceError as error:
            form.comment.errors = [*form.comment.errors, error.message]
            status = error.http_status
        else:
            flash(_("Comment sent to the student."))
            return redirect(url_for("rooms.assignment", slug=room.slug, assignment_id=assignment_id), 303)
    elif not form.is_submitted():
        form.comment.data, form.mark.data = row.comment, row.mark
    return render_template("rooms/hand_in.html", room=room, item=item, row=row, form=form), status
