"""Forms of the support blueprint."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..services.support import MAX_CANNED_LENGTH


class CannedForm(FlaskForm):
    """A canned response: a shortcut and the text it inserts."""

    shortcut = StringField(_l("Shortcut"), validators=[DataRequired(), Length(max=33)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=MAX_CANNED_LENGTH)])


class DeleteForm(FlaskForm):
    """A delete button (no fields but the CSRF token)."""
