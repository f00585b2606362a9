"""@mentions: which accounts a message names, kept with the message for highlighting and notices."""
from __future__ import annotations

from ..extensions import db
from ..markup import mention_names
from ..models import Message, MessageMention, User
from .rooms import can_enter, can_see_notes

# A message naming more people than this notifies only the first ones (a pasted roll call).
MAX_MENTIONS = 20


def resolve_mentions(*, message: Message) -> list[User]:
    """The active accounts @named in message's body who may read it, in order of appearance."""
    names = mention_names(message.body)[:MAX_MENTIONS]
    if not names:
        return []
    found = {
        user.username: user
        for user in db.session.scalars(
            db.select(User).where(User.username.in_(names), User.is_active_account.is_(True))
        )
    }
    room = message.room
    people = []
    for name in names:
        user = found.get(name)
        if user is None or not can_enter(user=user, room=room):
            continue
        if message.internal and not can_see_notes(user=user, room=room):
            continue  # a staff note never reaches a visitor, not even as a notice
        people.append(user)
    return people


def record_mentions(*, message: Message) -> list[int]:
    """Store who message mentions (replacing what an earlier version of it mentioned), uncommitted.

    Returns the ids it mentions now that it did not before: those people get a notice.
    """
    before = {row.user_id for row in message.mention_rows}
    now = [user.id for user in resolve_mentions(message=message)]
    for row in list(message.mention_rows):
        if row.user_id not in now:
            message.mention_rows.remove(row)  # delete-orphan: the row goes
    for user_id in sorted(set(now) - before):
        message.mention_rows.append(MessageMention(message_id=message.id, user_id=user_id))
    return [user_id for user_id in now if user_id not in before]

