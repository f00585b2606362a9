"""Views of a class's list: enrol a pasted or uploaded list, print its sign-in slips, give a student a new code."""
from __future__ import annotations

from urllib.parse import quote

from flask import current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..services import accounts, class_lists
from ..services import rooms as room_service
from ..services.errors import ServiceError
from .blueprint import bp
from .forms import ClassListForm, IssueCodeForm


def sign_in_url() -> str:
    """Where a student with a code signs in: printed on every slip."""
    return url_for("auth.first_sign_in", _external=True)


def render_sheet(*, room, rows, expires_at, status: int = 200, notice: str | None = None):
    """The printable slips (name, username, code, address) and their CSV, shown this once."""
    url = sign_in_url()
    csv_text = class_lists.codes_as_csv([(name, username, code) for name, username, code in rows], sign_in_url=url)
    return render_template(
        "rooms/class_sheet.html", room=room, rows=rows, expires_at=expires_at, sign_in_url=url, notice=notice,
        csv_href="data:text/csv;charset=utf-8," + quote(csv_text),
        csv_name=f"{room.slug if room else 'account'}-sign-in-codes.csv",
    ), status


@bp.route("/rooms/<slug>/class-list", methods=["GET", "POST"])
@login_required
def class_list(slug: str):
    """A teacher's class list: paste or upload students; the students already in the class,
    each with a new-code button."""
    room = room_service.get_room(slug)
    students = class_lists.class_students(actor=current_user, room=room)
    form = ClassListForm()
    if not form.is_submitted():
        form.days.data = current_app.config["SIGN_IN_CODE_DAYS"]
    problems: list[dict] = []
    status = 200
    if form.validate_on_submit():
        text, decoded_from = form.students.data or "", None
        upload = request.files.get(form.file.name)
        try:
            if upload is not None and upload.filename:
                text, decoded_from = class_lists.decode_class_file(upload.read())
                form.students.data = text  # shown again if a line is wrong, to fix in place
            result = class_lists.import_class_list(actor=current_user, room=room, text=text, days=form.days.data)
        except ServiceError as error:
            form.students.errors = [*form.students.errors, error.message]
            problems = list(error.extra.get("lines", []))
            status = error.http_status
        else:
            rows = [(s.user.display_name, s.user.username, s.code) for s in result.students]
            enrolled = len(result.students) - result.created
            notice = _("%(created)d new accounts, %(enrolled)d existing accounts enrolled.", created=result.created,
                       enrolled=enrolled)
            if decoded_from == "GBK":
                notice += " " + _("The file was read as GBK (Chinese Excel's CSV).")
            return render_sheet(room=room, rows=rows, expires_at=result.expires_at, notice=notice)
    elif form.is_submitted():
        status = 400
    return render_template("rooms/class_list.html", room=room, form=form, problems=problems, students=students,
                           issue_form=IssueCodeForm()), status


@bp.post("/rooms/<slug>/class-list/<int:user_id>/code")
@login_required
def issue_code(slug: str, user_id: int):
    """A new sign-in code for a student who lost theirs (the old one stops working)."""
    room = room_service.get_room(slug)
    form = IssueCodeForm()
    if not form.validate_on_submit():
        raise ServiceError("invalid", _("Your form expired. Reload the page and try again."))
    student = accounts.get_user(user_id)
    code, expires_at = class_lists.issue_sign_in_code(actor=current_user, user=student, room=room)
    return render_sheet(room=room, rows=[(student.display_name, student.username, code)], expires_at=expires_at)
