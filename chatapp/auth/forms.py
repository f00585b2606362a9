"""Forms of the auth blueprint."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ..i18n import language_choices


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


class AccountForm(FlaskForm):
    """An account's own settings: the name others see and the interface language."""

    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=64)])
    # Checked by the service, which says clearly what is wrong with an unknown value.
    language = SelectField(_l("Language"), choices=lambda: language_choices(_l("Automatic (the browser's language)")),
                           validate_choice=False)


class FirstSignInForm(FlaskForm):
    """A student's first sign-in: username and the code from the teacher's slip, then a password of their own."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    code = StringField(_l("Sign-in code"), validators=[DataRequired(), Length(max=32)])
    password = PasswordField(_l("Choose a password"), validators=[DataRequired(), Length(min=8, max=256)])
    confirm = PasswordField(
        _l("Repeat password"), validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))]
    )
