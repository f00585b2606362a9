"""Forms of the rooms blueprint."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length


class CreateRoomForm(FlaskForm):
    """A new room."""

    name = StringField("Room name", validators=[DataRequired(), Length(max=80)])
    private = BooleanField("Private (members join with a code)")


class JoinCodeForm(FlaskForm):
    """Join a private room by its code."""

    code = StringField("Join code", validators=[DataRequired(), Length(max=32)])
