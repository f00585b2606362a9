"""Forms of the support blueprint."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..services.support import MAX_CANNED_LENGTH


class CannedForm(FlaskForm):
    """A canned response: a shortcut and the text it inserts."""

    shortcut = StringField(_l("Shortcut"), validators=[DataRequired(), Length(max=33)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=MAX_CANNED_LENGTH)])


class DeleteForm(FlaskForm):
    """A delete button (no fields but the CSRF token)."""


ROUTING_NAMES = {"manual": _l("Manual: agents claim conversations from the queue"),
                 "auto": _l("Automatic: hand each new conversation to an available agent")}
WEEKDAY_NAMES = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
                 _l("Sunday"))


class RoutingForm(FlaskForm):
    """How a site's conversations reach its agents; the service checks every value and says what is wrong."""

    routing = RadioField(_l("Routing"), choices=[SelectChoice(mode, name) for mode, name in ROUTING_NAMES.items()],
                         validate_choice=False)
    agent_cap = StringField(_l("Open conversations per agent (empty: no limit)"), validators=[Length(max=10)])
    requeue_on_offline = BooleanField(_l("When an agent goes offline, put their open conversations back in the queue"))


class HoursForm(FlaskForm):
    """A site's business hours: a time zone, a period list per weekday (or always open), holidays."""

    timezone = StringField(_l("Time zone"), validators=[Length(max=64)])
    always_open = BooleanField(_l("Always open (no business hours)"))
    day_0 = StringField(WEEKDAY_NAMES[0], validators=[Length(max=200)])
    day_1 = StringField(WEEKDAY_NAMES[1], validators=[Length(max=200)])
    day_2 = StringField(WEEKDAY_NAMES[2], validators=[Length(max=200)])
    day_3 = StringField(WEEKDAY_NAMES[3], validators=[Length(max=200)])
    day_4 = StringField(WEEKDAY_NAMES[4], validators=[Length(max=200)])
    day_5 = StringField(WEEKDAY_NAMES[5], validators=[Length(max=200)])
    day_6 = StringField(WEEKDAY_NAMES[6], validators=[Length(max=200)])
    holidays = TextAreaField(_l("Holidays (one date per line, such as 2026-12-25)"), validators=[Length(max=2000)])

    def day_fields(self) -> list:
        """The seven weekday fields, Monday first."""
        return [self[f"day_{day}"] for day in range(7)]


class CapForm(FlaskForm):
    """One agent's own cap."""

    cap = StringField(_l("Open conversations (empty: the site's cap)"), validators=[Length(max=10)])
