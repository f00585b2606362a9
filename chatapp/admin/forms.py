"""Forms of the admin blueprint."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    ColorField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..i18n import language_choices
from ..models import ROLES
from ..services.labels import DEFAULT_COLOUR, MAX_LABEL_NAME_LENGTH
from ..services.webhooks import EVENTS, MAX_URL_LENGTH

ROLE_NAMES = {"admin": _l("admin"), "staff": _l("staff"), "member": _l("member")}


class CreateUserForm(FlaskForm):
    """A new account, staff by default."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=3, max=32)])
    display_name = StringField(_l("Display name"), validators=[Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=256)])
    role = SelectField(_l("Role"), choices=[SelectChoice(role, ROLE_NAMES[role]) for role in ROLES],
                       default="staff")


class CreateBotForm(FlaskForm):
    """A new bot: an account for an integration, which acts only through access tokens."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=3, max=32)])
    display_name = StringField(_l("Display name"), validators=[Length(max=64)])
    role = SelectField(_l("Role"), choices=[SelectChoice(role, ROLE_NAMES[role]) for role in ("member", "staff")],
                       default="member")


class RoleForm(FlaskForm):
    """Change one account's role."""

    role = SelectField(_l("Role"), choices=[SelectChoice(role, ROLE_NAMES[role]) for role in ROLES])


class ActiveForm(FlaskForm):
    """Deactivate or reactivate one account (the button carries no fields but the CSRF token)."""


class SiteForm(FlaskForm):
    """A website that embeds the support widget."""

    name = StringField(_l("Site name"), validators=[DataRequired(), Length(max=80)])
    origins = TextAreaField(_l("Allowed origins (one per line)"), validators=[DataRequired(), Length(max=4000)])
    identity_secret = StringField(_l("Identity secret (optional)"), validators=[Length(max=128)])
    prechat_enabled = BooleanField(_l("Ask for a name and e-mail before the chat (pre-chat form)"))
    prechat_name_required = BooleanField(_l("Name is required"))
    prechat_email_required = BooleanField(_l("E-mail is required"))
    # Checked by the service, which says clearly what is wrong with an unknown value.
    language = SelectField(_l("Widget language"), choices=lambda: language_choices(_l("Automatic")),
                           validate_choice=False)
    transcript_on_resolve = BooleanField(_l("E-mail the visitor the conversation when it is resolved"))


class TeamForm(FlaskForm):
    """A team's name (creating one, or renaming it)."""

    name = StringField(_l("Team name"), validators=[DataRequired(), Length(max=80)])


class MemberForm(FlaskForm):
    """Put an agent in a team; the choices are the active staff and admins who are not in it yet."""

    user_id = SelectField(_l("Agent"), coerce=int, validate_choice=False)
    lead = BooleanField(_l("Leads the team"))


class SiteTeamForm(FlaskForm):
    """Which team answers a site ("": every agent)."""

    team_id = SelectField(_l("Team"), validate_choice=False)


class LabelForm(FlaskForm):
    """A label agents put on conversations: its name and colour (the service checks both)."""

    name = StringField(_l("Label name"), validators=[DataRequired(), Length(max=MAX_LABEL_NAME_LENGTH)])
    colour = ColorField(_l("Colour"), default=DEFAULT_COLOUR)


class ButtonForm(FlaskForm):
    """A button that does one thing (no fields but the CSRF token): delete, retry now."""


DeleteForm = ButtonForm


class WebhookForm(FlaskForm):
    """A webhook: where calls go, for which site (or the whole server), and which events (the service checks all)."""

    url = StringField(_l("URL that receives the calls"), validators=[DataRequired(), Length(max=MAX_URL_LENGTH)])
    site_id = SelectField(_l("Events of"), coerce=int, validate_choice=False)
    events = SelectMultipleField(
        _l("Events"), choices=[SelectChoice(key, title) for key, title in EVENTS.items()], validate_choice=False,
        option_widget=widgets.CheckboxInput(), widget=widgets.ListWidget(prefix_label=False),
    )
