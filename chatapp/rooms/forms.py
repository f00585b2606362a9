"""Forms of the rooms blueprint."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional


class CreateRoomForm(FlaskForm):
    """A new room."""

    name = StringField(_l("Room name"), validators=[DataRequired(), Length(max=80)])
    private = BooleanField(_l("Private (members join with a code)"))
    # Offered to staff only (teachers); the service refuses everyone else.
    is_class = BooleanField(_l("Class (students join with a code; you moderate)"))
    code_valid_for = SelectField(
        _l("Class join code valid for"),
        choices=[
            SelectChoice(value, label)
            for value, label in [
                ("", _l("Until I change it")),
                ("60", _l("1 hour")),
                ("1440", _l("1 day")),
                ("10080", _l("7 days")),
                ("43200", _l("30 days")),
            ]
        ],
        default="",
        validate_choice=False,  # checked in the view: anything else means "until I change it"
    )


class JoinCodeForm(FlaskForm):
    """Join a private room by its code."""

    code = StringField(_l("Join code"), validators=[DataRequired(), Length(max=32)])


class JoinConfirmForm(FlaskForm):
    """Confirm joining the room of a join link (only its CSRF token)."""


class ClassListForm(FlaskForm):
    """A class list, pasted or uploaded as CSV (checked line by line by the service)."""

    students = TextAreaField(_l("Students, one a line: name, username (optional), e-mail (optional)"),
                             validators=[Length(max=200_000)])
    file = FileField(_l("Or upload a CSV file"))
    days = IntegerField(_l("Sign-in codes work for (days)"), default=7, validators=[Optional()])


class IssueCodeForm(FlaskForm):
    """A new sign-in code for one student (only its CSRF token)."""


class ArchiveForm(FlaskForm):
    """The archive page's buttons: start an export; archive (archived=1) or restore (archived=0) the class."""

    archived = StringField()


class AssignmentForm(FlaskForm):
    """A teacher's new homework (services/homework.py checks it)."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    instructions = TextAreaField(_l("Instructions"), validators=[Optional()])
    due = StringField(_l("Due"), validators=[DataRequired()])
    allow_late = BooleanField(_l("Take late hand-ins (marked late)"), default=True)
    files = FileField(_l("Files"))


class HandInForm(FlaskForm):
    """A student's hand-in: text and/or files."""

    text = TextAreaField(_l("Your answer"), validators=[Optional()])
    files = FileField(_l("Files"))


class FeedbackForm(FlaskForm):
    """A teacher's comment and mark on one hand-in."""

    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])
    mark = StringField(_l("Mark"), validators=[Optional(), Length(max=20)])


class RemindForm(FlaskForm):
    """Remind the students who have not handed in."""
