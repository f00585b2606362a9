"""Forms of the admin blueprint."""
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..models import ROLES


class CreateUserForm(FlaskForm):
    """A new account, staff by default."""

    username = StringField("Username", validators=[DataRequired(), Length(min=3, max=32)])
    display_name = StringField("Display name", validators=[Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8, max=256)])
    role = SelectField("Role", choices=[(role, role) for role in ROLES], default="staff")


class RoleForm(FlaskForm):
    """Change one account's role."""

    role = SelectField("Role", choices=[(role, role) for role in ROLES])


class ActiveForm(FlaskForm):
    """Deactivate or reactivate one account (the button carries no fields but the CSRF token)."""
