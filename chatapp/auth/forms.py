"""Forms of the auth blueprint."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ..i18n import language_choices
from ..models import User
from ..services.api_tokens import MAX_TOKEN_NAME_LENGTH, SCOPE_NAMES, available_scopes


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
    share_reads = BooleanField(_l("Let others see when I have read their messages (and see when they have read mine)"))


class FirstSignInForm(FlaskForm):
    """A student's first sign-in: username and the code from the teacher's slip, then a password of their own."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    code = StringField(_l("Sign-in code"), validators=[DataRequired(), Length(max=32)])
    password = PasswordField(_l("Choose a password"), validators=[DataRequired(), Length(min=8, max=256)])
    confirm = PasswordField(
        _l("Repeat password"), validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))]
    )


# The expiries offered for a new token ("never": no expiry); services/api_tokens.EXPIRY_DAYS.
EXPIRY_CHOICES = [SelectChoice("30", _l("In 30 days")), SelectChoice("90", _l("In 90 days")),
                  SelectChoice("365", _l("In a year")), SelectChoice("never", _l("Never"))]


class TokenForm(FlaskForm):
    """A new access token: its name, scopes and expiry (the service checks each); the scopes offered are the owner's."""

    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=MAX_TOKEN_NAME_LENGTH)])
    scopes = SelectMultipleField(
        _l("Scopes"), validate_choice=False,
        option_widget=widgets.CheckboxInput(), widget=widgets.ListWidget(prefix_label=False),
    )
    expires_in_days = SelectField(_l("Expires"), choices=EXPIRY_CHOICES, default="90")

    def for_owner(self, owner: User) -> "TokenForm":
        """Offer the scopes owner's tokens may carry."""
        self.scopes.choices = [SelectChoice(scope, SCOPE_NAMES[scope]) for scope in available_scopes(owner)]
        return self

    def days(self) -> int | None:
        """The chosen expiry in days (None: never)."""
        return None if self.expires_in_days.data == "never" else int(self.expires_in_days.data)
