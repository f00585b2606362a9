"""Forms of the admin blueprint."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..models import ROLES


class CreateUserForm(FlaskForm):
    """A new account, staff by default."""

    username = StringField("Username", validators=[DataRequired(), Length(min=3, max=32)])
    display_name = StringField("Display name", validators=[Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8, max=256)])
    role = SelectField("Role", choices=list(ROLES), default="staff")


class RoleForm(FlaskForm):
    """Change one account's role."""

    role = SelectField("Role", choices=list(ROLES))


class ActiveForm(FlaskForm):
    """Deactivate or reactivate one account (the button carries no fields but the CSRF token)."""


class SiteForm(FlaskForm):
    """A website that embeds the support widget."""

    name = StringField("Site name", validators=[DataRequired(), Length(max=80)])
    origins = TextAreaField("Allowed origins (one per line)", validators=[DataRequired(), Length(max=4000)])
    identity_secret = StringField("Identity secret (optional)", validators=[Length(max=128)])
    prechat_enabled = BooleanField("Ask for a name and e-mail before the chat (pre-chat form)")
    prechat_name_required = BooleanField("Name is required")
    prechat_email_required = BooleanField("E-mail is required")
