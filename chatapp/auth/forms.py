"""Forms of the auth blueprint."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

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
    """An account's own settings: the name others see, the interface language, the e-mail address and which e-mails."""

    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=64)])
    # Checked by the service, which says clearly what is wrong with an unknown value.
    language = SelectField(_l("Language"), choices=lambda: language_choices(_l("Automatic (the browser's language)")),
                           validate_choice=False)
    # Checked by the service too (services/text.check_email), with the same words.
    email = EmailField(_l("E-mail address (optional)"), validators=[Optional(), Length(max=254)])
    mail_direct = BooleanField(_l("Direct messages I have not read"))
    mail_mentions = BooleanField(_l("@mentions of me I have not read"))
    mail_announcements = BooleanField(_l("Announcements pinned in my classes"))
    mail_desk = BooleanField(_l("Messages visitors leave while no agent is online"))


class FirstSignInForm(FlaskForm):
    """A student's first sign-in: username and the code from the teacher's slip, then a password of their own."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    code = StringField(_l("Sign-in code"), validators=[DataRequired(), Length(max=32)])
    password = PasswordField(_l("Choose a password"), validators=[DataRequired(), Length(min=8, max=256)])
    confirm = PasswordField(
        _l("Repeat password"), validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))]
    )
