"""Forms of the rooms blueprint."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length


class CreateRoomForm(FlaskForm):
    """A new room."""

    name = StringField("Room name", validators=[DataRequired(), Length(max=80)])
    private = BooleanField("Private (members join with a code)")
    # Offered to staff only (teachers); the service refuses everyone else.
    is_class = BooleanField("Class (students join with a code; you moderate)")
    code_valid_for = SelectField(
        "Class join code valid for",
        choices=[
            SelectChoice(value, label)
            for value, label in [("", "Until I change it"), ("60", "1 hour"), ("1440", "1 day"), ("10080", "7 days"), ("43200", "30 days")]
        ],
        default="",
        validate_choice=False,  # checked in the view: anything else means "until I change it"
    )


class JoinCodeForm(FlaskForm):
    """Join a private room by its code."""

    code = StringField("Join code", validators=[DataRequired(), Length(max=32)])


class JoinConfirmForm(FlaskForm):
    """Confirm joining the room of a join link (only its CSRF token)."""
