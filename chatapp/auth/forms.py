"""Forms of the auth blueprint."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class RegisterForm(FlaskForm):
    """A new member account."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=3, max=32)])
    display_name = StringField(_l("Display name"), validators=[Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=256)])
    confirm = PasswordField(
        _l("Repeat password"), validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))]
    )
