"""Labels on conversations: admins keep the list (names and colours), agents put them on and take them off."""
from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Conversation, ConversationLabel, Label, User
from . import support
from .accounts import ensure_admin
from .availability import ensure_agent
from .errors import ServiceError
from .text import clean_name

MAX_LABEL_NAME_LENGTH = 40
COLOUR_RE = re.compile(r"^#[0-9a-f]{6}$")
# The colours the admin page offers first (any other #rrggbb is fine too). A label's colour is
# only ever a swatch beside its name, never the colour of text, so no colour makes a name unreadable.
PALETTE = {
    "#6b7280": _l("Grey"),
    "#dc2626": _l("Red"),
    "#d97706": _l("Amber"),
    "#16a34a": _l("Green"),
    "#0891b2": _l("Teal"),
    "#2563eb": _l("Blue"),
    "#7c3aed": _l("Violet"),
    "#db2777": _l("Pink"),
}
DEFAULT_COLOUR = "#6b7280"


# -- the list (admins) --------------------------------------------------------------------


def list_labels(*, viewer: User) -> list[Label]:
    """Every label, by name: what the console offers and filters by (staff only)."""
    ensure_agent(viewer)
    return list(db.session.scalars(db.select(Label).order_by(db.func.lower(Label.name), Label.id)))


def get_label(label_id: object) -> Label:
    """The label with this id, or not_found."""
    row_id = support.as_row_id(label_id)
    label = db.session.get(Label, row_id) if row_id is not None else None
    if label is None:
        raise ServiceError("not_found", _("There is no such label. Reload the page to see the current labels."))
    return label


def check_colour(colour: object) -> str:
    """Return colour as lowercase #rrggbb, or raise invalid."""
    clean = colour.strip().lower() if isinstance(colour, str) else ""
    if not COLOUR_RE.match(clean):
        raise ServiceError(
            "invalid", _("A colour is # and six hexadecimal digits, like #2563eb. Pick one from the palette."),
            field="colour",
        )
    return clean


def _check_name(name: object, *, label: Label | None) -> str:
    clean = clean_name(name, what=_("label name"), max_length=MAX_LABEL_NAME_LENGTH)
    # Unique without regard to case: "Billing" and "billing" would be one label to a person.
    taken = db.session.scalar(
        db.select(Label.id).where(db.func.lower(Label.name) == clean.lower(), Label.id != (label.id if label else -1))
    )
    if taken is not None:
        raise ServiceError("conflict", _("There is a label called %(name)s already; choose another name.", name=clean))
    return clean


def save_label(*, actor: User | None, name: object, colour: object = DEFAULT_COLOUR,
               label: Label | None = None) -> Label:
    """Create a label, or rename and recolour `label`; conflict if the name is taken. Commits, then announces."""
    ensure_admin(actor)
    clean_name_ = _check_name(name, label=label)
    clean_colour = check_colour(colour)
    if label is None:
        label = Label()
        db.session.add(label)
    changed = label.id is not None and (label.name, label.colour) != (clean_name_, clean_colour)
    label.name = clean_name_
    label.colour = clean_colour
    try:
        db.session.commit()
    except IntegrityError:  # the same name saved at the same moment by another admin
        db.session.rollback()
        raise ServiceError(
            "conflict", _("There is a label called %(name)s already; choose another name.", name=clean_name_)
        ) from None
    if changed:
        _announce_labelled(label.id)
    return label


def delete_label(*, actor: User | None, label: Label) -> None:
    """Delete a label; it comes off every conversation. Commits, then announces those conversations."""
    ensure_admin(actor)
    labelled = _conversations_with(label.id)
    db.session.delete(label)  # its ConversationLabel rows go with it (ON DELETE CASCADE)
    db.session.commit()
    for conversation in labelled:
        support.announce_conversation(conversation, to_visitor=False)


def _conversations_with(label_id: int) -> list[Conversation]:
    return list(db.session.scalars(
        db.select(Conversation).join(ConversationLabel, ConversationLabel.conversation_id == Conversation.id)
        .where(ConversationLabel.label_id == label_id)
    ))


def _announce_labelled(label_id: int) -> None:
    """The consoles redraw a renamed or recoloured label's conversations."""
    for conversation in _conversations_with(label_id):
        support.announce_conversation(conversation, to_visitor=False)


# -- on conversations (agents) -------------------------------------------------------------


def set_label(*, agent: User, slug: object, label_id: object, labelled: bool) -> Conversation:
    """Put a label on a conversation agent may see (labelled) or take it off; either is idempotent.

    Commits, then every console hears of the conversation; its visitor never sees labels.
    """
    ensure_agent(agent)  # a visitor may enter their own conversation, but never label it
    conversation = support.conversation_for(user=agent, slug=slug)
    label = get_label(label_id)
    key = (conversation.id, label.id)
    present = db.session.get(ConversationLabel, key)
    if labelled and present is None:
        db.session.add(ConversationLabel(conversation_id=conversation.id, label_id=label.id, added_by_id=agent.id))
    elif not labelled and present is not None:
        db.session.delete(present)
    else:
        return conversation  # nothing changes, so nobody needs telling
    try:
        db.session.commit()
    except IntegrityError:  # another agent put the same label on at the same moment: it is on
        db.session.rollback()
    support.announce_conversation(conversation, to_visitor=False)
    return conversation
