"""Homework in classes: a teacher sets an assignment, each student hands in once (replacing it until it is due),
the teacher sees who has and comments on each hand-in for that student alone.

An assignment is carried by a message of the class (its body is the title and the instructions, rendered by the
same Markdown subset as any message), so it is in the history; MESSAGE's `assignment` is what every member sees.
A hand-in is one row per (assignment, student), kept so by the database; replacing it updates the row, and the
same hand-in again changes nothing. After the due time a hand-in is taken and marked late, or refused when the
assignment says so. Handed-in files are the student's own uploads to the class (services/uploads.py), kept unsent
by HandInFile rows. Every change is committed before the class's moderators (`hand_in_updated`) or the student
(`hand_in_feedback`, `homework_reminder`) hear of it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..models import (
    ASSIGNMENT_TITLE_MAX,
    FEEDBACK_COMMENT_MAX,
    FEEDBACK_MARK_MAX,
    HANDIN_TEXT_MAX,
    Assignment,
    Attachment,
    HandIn,
    HandInFile,
    Membership,
    Message,
    Room,
    User,
    isoformat_utc,
    utcnow,
)
from ..realtime.announce import announce
from ..realtime.channels import moderators_channel, user_channel
from . import outbox
from .class_time import from_class_time, to_class_time
from .errors import ServiceError
from .messages import check_cursor, post_message
from .moderation import ensure_can_moderate, is_moderator
from .rooms import ensure_can_enter, ensure_can_write, get_membership, write_refusal
from .uploads import check_attachment_ids

# "Remind those who have not handed in": at most once per this, per assignment.
REMIND_INTERVAL = timedelta(minutes=10)
DUE_FORMAT = "%Y-%m-%dT%H:%M"  # what an <input type="datetime-local"> sends


@dataclass(frozen=True)
class AssignmentSpec:
    """A checked new assignment; due_at in UTC."""

    title: str
    instructions: str
    due_at: datetime
    allow_late: bool


@dataclass(frozen=True)
class RosterRow:
    """One student of the class and their hand-in (None: not handed in)."""

    student: User
    hand_in: HandIn | None

    @property
    def state(self) -> str:
        """"missing", "late" or "handed_in"."""
        if self.hand_in is None:
            return "missing"
        return "late" if self.hand_in.late else "handed_in"


def check_due(value: object) -> datetime:
    """A due time entered as YYYY-MM-DDTHH:MM in the homework zone, as naive UTC; raise invalid otherwise."""
    try:
        local = datetime.strptime(str(value).strip(), DUE_FORMAT) if isinstance(value, str) else None
    except ValueError:
        local = None
    if local is None:
        raise ServiceError("invalid", _("Give the due time as a date and a time, such as 2026-12-24T18:00."))
    return from_class_time(local)


def due_in_zone(due_at: datetime) -> str:
    """due_at (naive UTC) as YYYY-MM-DDTHH:MM in the homework zone (a form's value)."""
    return to_class_time(due_at).strftime(DUE_FORMAT)


def check_assignment(*, title: object, instructions: object, due: object, allow_late: object) -> AssignmentSpec:
    """Raise invalid unless these make an assignment: a title, instructions (may be empty), a due time."""
    clean_title = " ".join(title.split()) if isinstance(title, str) else ""
    if not clean_title:
        raise ServiceError("invalid", _("Give the assignment a title."))
    if len(clean_title) > ASSIGNMENT_TITLE_MAX:
        raise ServiceError("invalid", _("A title can be at most %(max)d characters.", max=ASSIGNMENT_TITLE_MAX))
    text = instructions.strip() if isinstance(instructions, str) else ""
    if len(text) > HANDIN_TEXT_MAX:
        raise ServiceError("invalid", _("Instructions can be at most %(max)d characters.", max=HANDIN_TEXT_MAX))
    if not isinstance(allow_late, bool):
        raise ServiceError("invalid", _("Choose whether late hand-ins are taken."))
    return AssignmentSpec(title=clean_title, instructions=text, due_at=check_due(due), allow_late=allow_late)


def set_refusal(*, actor: User, room: Room) -> ServiceError | None:
    """Why actor may not set homework in room (None: they may): only a class's moderators, in a class
    that is not archived."""
    if not room.is_class:
        return ServiceError("invalid", _("Homework is set in classes only."))
    if not is_moderator(user=actor, room=room):
        return ServiceError("forbidden", _("Only the class's teachers set homework."))
    return write_refusal(user=actor, room=room)


def ensure_can_set(*, actor: User, room: Room) -> None:
    """Raise set_refusal's error, if there is one."""
    refusal = set_refusal(actor=actor, room=room)
    if refusal is not None:
        raise refusal


def create_assignment(*, actor: User, room: Room, spec: AssignmentSpec, attachments: object = None,
                      client_id: object = None) -> Assignment:
    """A teacher sets homework in their class: a message of the class with its assignment, in one commit."""
    ensure_can_set(actor=actor, room=room)

    def add_assignment(message: Message) -> None:
        # In the transaction that stores the message.
        assignment = Assignment(message_id=message.id, room_id=message.room_id, title=spec.title,
                                instructions=spec.instructions, due_at=spec.due_at, allow_late=spec.allow_late,
                                created_at=utcnow())
        db.session.add(assignment)
        db.session.flush()
        set_committed_value(message, "assignment", assignment)

    body = spec.title + ("\n\n" + spec.instructions if spec.instructions else "")
    result = post_message(sender=actor, room=room, body=body, client_id=client_id, attachments=attachments,
                          on_stored=add_assignment)
    if "assignment" not in result.shown:
        raise ServiceError("conflict", _("That client_id was already used for a message that is not homework."))
    assignment = db.session.scalar(db.select(Assignment).filter_by(message_id=result.message.id))
    assert assignment is not None
    return assignment


def _assignments(room: Room):
    return (db.select(Assignment).join(Message, Message.id == Assignment.message_id)
            .where(Assignment.room_id == room.id, Message.deleted_at.is_(None)))


def list_assignments(*, user: User, room: Room) -> list[Assignment]:
    """The class's assignments that user may see, the soonest due first."""
    ensure_can_enter(user=user, room=room)
    return list(db.session.scalars(_assignments(room).order_by(Assignment.due_at, Assignment.id)))


def get_assignment(*, user: User, room: Room, assignment_id: object) -> Assignment:
    """One assignment of room for a member of it: not_found if unknown, elsewhere or its message deleted."""
    wanted = check_cursor(assignment_id, "assignment_id")
    ensure_can_enter(user=user, room=room)
    assignment = db.session.scalar(_assignments(room).where(Assignment.id == wanted))
    if assignment is None:
        raise ServiceError("not_found", _("There is no such assignment in this class."))
    return assignment


def assignment_message(assignment: Assignment) -> Message:
    """The message that carries the assignment (its rendered instructions and the teacher's files)."""
    return db.session.get_one(Message, assignment.message_id)


def _find_hand_in(*, assignment: Assignment, student: User) -> HandIn | None:
    return db.session.scalar(db.select(HandIn).filter_by(assignment_id=assignment.id, user_id=student.id))


def check_student(*, user: User, room: Room) -> None:
    """Raise unless user is a student of the class who may write there now."""
    ensure_can_enter(user=user, room=room)
    ensure_can_write(user=user, room=room)
    membership = get_membership(user=user, room=room)
    if membership is None or membership.role != "member" or is_moderator(user=user, room=room):
        raise ServiceError("forbidden", _("Only the class's students hand in homework."))


def _check_files(*, student: User, room: Room, ids: list[int], own: HandIn | None) -> list[int]:
    """Raise unless each id is an upload of student to room that no message and no other hand-in holds."""
    if not ids:
        return ids
    rows = {row.id: row for row in db.session.scalars(db.select(Attachment).where(Attachment.id.in_(ids)))}
    held = {row.attachment_id: row.hand_in_id for row in db.session.scalars(
        db.select(HandInFile).where(HandInFile.attachment_id.in_(ids)))}
    for attachment_id in ids:
        row = rows.get(attachment_id)
        if row is None or row.uploader_id != student.id or row.room_id != room.id or row.message_id is not None:
            # Somebody else's upload answers as if it did not exist: ids reveal nothing.
            raise ServiceError("not_found", _("That file is not there any more; upload it again."))
        if attachment_id in held and (own is None or held[attachment_id] != own.id):
            raise ServiceError("conflict", _("That file was handed in already."))
    return ids


def hand_in(*, student: User, room: Room, assignment_id: object, text: object,
            attachments: object = None) -> HandIn:
    """A student hands in (or replaces) their work: text and/or their own uploads, one row per assignment.

    After the due time it is marked late, or refused if the assignment takes no late work. The same hand-in
    again (a retry) changes nothing and tells nobody.
    """
    check_student(user=student, room=room)
    assignment = get_assignment(user=student, room=room, assignment_id=assignment_id)
    body = text.strip() if isinstance(text, str) else ""
    if text is not None and not isinstance(text, str):
        raise ServiceError("invalid", _("Hand in your work as text."))
    if len(body) > HANDIN_TEXT_MAX:
        raise ServiceError("too_large", _("A hand-in can be at most %(max)d characters.", max=HANDIN_TEXT_MAX))
    ids = check_attachment_ids(attachments)
    if not body and not ids:
        raise ServiceError("invalid", _("Write your answer or attach a file, then hand it in."))
    row = _find_hand_in(assignment=assignment, student=student)
    if row is not None and row.text == body and sorted(f.attachment_id for f in row.file_rows) == sorted(ids):
        db.session.rollback()
        return row  # a retry (also after a lost answer past the due time): nothing changed
    now = utcnow()
    late = assignment.is_due(now)
    if late and not assignment.allow_late:
        raise ServiceError("forbidden", _("This assignment was due and takes no late hand-ins; ask your teacher."))
    _check_files(student=student, room=room, ids=ids, own=row)
    if row is None:
        row = HandIn(assignment_id=assignment.id, user_id=student.id, text=body, submitted_at=now, late=late)
        db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError:
            # Two tabs handed in at once: the database kept one row; this one replaces it.
            db.session.rollback()
            row = _find_hand_in(assignment=assignment, student=student)
            assert row is not None
    row.text, row.submitted_at, row.late = body, now, late
    db.session.execute(db.delete(HandInFile).where(HandInFile.hand_in_id == row.id))
    db.session.add_all([HandInFile(hand_in_id=row.id, attachment_id=attachment_id) for attachment_id in ids])
    db.session.commit()
    db.session.expire(row)
    announce("hand_in_updated", {"room": room.slug, "assignment_id": assignment.id,
                                 "student": roster_entry(RosterRow(student=student, hand_in=row))},
             to=moderators_channel(room.slug))
    return row


def own_hand_in(*, student: User, room: Room, assignment_id: object) -> HandIn | None:
    """The viewer's own hand-in of an assignment (None: not yet), with the comment for them."""
    assignment = get_assignment(user=student, room=room, assignment_id=assignment_id)
    return _find_hand_in(assignment=assignment, student=student)


def _students(room: Room) -> list[User]:
    return list(db.session.scalars(
        db.select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.room_id == room.id, Membership.role == "member", User.is_active_account.is_(True))
        .order_by(User.display_name, User.username)
    ))


def roster(*, actor: User, room: Room, assignment_id: object) -> list[RosterRow]:
    """A teacher's list of every student of the class with their hand-in (handed in, late, or missing)."""
    ensure_can_moderate(user=actor, room=room, reading=True)
    assignment = get_assignment(user=actor, room=room, assignment_id=assignment_id)
    handed = {row.user_id: row for row in db.session.scalars(db.select(HandIn).filter_by(assignment_id=assignment.id))}
    return [RosterRow(student=student, hand_in=handed.get(student.id)) for student in _students(room)]


def roster_entry(row: RosterRow) -> dict:
    """HAND_IN_STATE: one student's state for the teacher's table (no text: the teacher opens the hand-in)."""
    hand = row.hand_in
    return {
        "user": row.student.to_dict(),
        "state": row.state,
        "hand_in_id": hand.id if hand else None,
        "submitted_at": isoformat_utc(hand.submitted_at) if hand else None,
        "commented": bool(hand and hand.commented_at),
    }


def get_hand_in(*, actor: User, room: Room, assignment_id: object, hand_in_id: object) -> HandIn:
    """A teacher opens one hand-in of an assignment of their class (anyone else: not_found, ids reveal nothing)."""
    if not is_moderator(user=actor, room=room):
        raise ServiceError("not_found", _("There is no such hand-in."))
    ensure_can_moderate(user=actor, room=room, reading=True)
    assignment = get_assignment(user=actor, room=room, assignment_id=assignment_id)
    wanted = check_cursor(hand_in_id, "hand_in_id")
    row = db.session.scalar(db.select(HandIn).filter_by(id=wanted, assignment_id=assignment.id))
    if row is None:
        raise ServiceError("not_found", _("There is no such hand-in."))
    return row


def comment_hand_in(*, actor: User, room: Room, assignment_id: object, hand_in_id: object, comment: object,
                    mark: object = None) -> HandIn:
    """A teacher returns a short comment and an optional mark on one hand-in; only its student hears of it."""
    ensure_can_moderate(user=actor, room=room)
    row = get_hand_in(actor=actor, room=room, assignment_id=assignment_id, hand_in_id=hand_in_id)
    text = comment.strip() if isinstance(comment, str) else ""
    grade = mark.strip() if isinstance(mark, str) else ""
    if not text and not grade:
        raise ServiceError("invalid", _("Write a comment or a mark for the student."))
    if len(text) > FEEDBACK_COMMENT_MAX:
        raise ServiceError("too_large", _("A comment can be at most %(max)d characters.", max=FEEDBACK_COMMENT_MAX))
    if len(grade) > FEEDBACK_MARK_MAX:
        raise ServiceError("invalid", _("A mark can be at most %(max)d characters.", max=FEEDBACK_MARK_MAX))
    row.comment, row.mark = text or None, grade or None
    row.commented_at, row.commented_by_id = utcnow(), actor.id
    db.session.commit()
    announce("hand_in_feedback", {"room": room.slug, "assignment_id": row.assignment_id,
                                  "feedback": feedback_dict(row)}, to=user_channel(row.user_id))
    return row


def feedback_dict(row: HandIn) -> dict:
    """FEEDBACK: the teacher's comment and mark on a hand-in, for its student only."""
    return {"comment": row.comment, "mark": row.mark,
            "commented_at": isoformat_utc(row.commented_at) if row.commented_at else None}


def remind_missing(*, actor: User, room: Room, assignment_id: object) -> int:
    """A teacher reminds each student who has not handed in (a notice, and an e-mail to those who want class
    mail); at most once per REMIND_INTERVAL per assignment. Returns how many were reminded."""
    ensure_can_moderate(user=actor, room=room)
    assignment = get_assignment(user=actor, room=room, assignment_id=assignment_id)
    now = utcnow()
    if assignment.reminded_at is not None and now - assignment.reminded_at < REMIND_INTERVAL:
        again = (assignment.reminded_at + REMIND_INTERVAL).replace(tzinfo=timezone.utc)
        raise ServiceError("rate_limited", _("Students were reminded a moment ago; you can remind them again at "
                                             "%(time)s.", time=format_datetime(again, "short")),
                           retry_at=isoformat_utc(assignment.reminded_at + REMIND_INTERVAL))
    missing = [row.student for row in roster(actor=actor, room=room, assignment_id=assignment.id)
               if row.hand_in is None]
    assignment.reminded_at = now
    for student in missing:
        if student.email and student.mail_announcements:
            # The existing class-mail job: it e-mails the assignment's message to the student.
            outbox.enqueue("announcement", {"message_id": assignment.message_id, "user_id": student.id},
                           subject=f"user:{student.id}")
    db.session.commit()
    if missing:
        channels = [user_channel(student.id) for student in missing]
        shown = assignment_message(assignment).to_dict()
        announce("homework_reminder", {"room": room.to_dict(), "assignment": assignment.to_dict()}, to=channels)
        # The existing notice: every page that shows `mention`s (the room list, a room) notifies of it.
        announce("mention", {"room": room.to_dict(), "message": shown, "homework_reminder": True}, to=channels)
    return len(missing)


def capabilities(*, user: User, room: Room, assignment: Assignment | None = None) -> dict:
    """What the viewer may do with the class's homework (the page reads these, not the rules)."""
    moderator = is_moderator(user=user, room=room)
    membership = get_membership(user=user, room=room)
    student = membership is not None and membership.role == "member" and not moderator
    may_hand_in = student and not room.is_archived
    if assignment is not None and assignment.is_due() and not assignment.allow_late:
        may_hand_in = False
    return {"may_set": set_refusal(actor=user, room=room) is None,
            "may_review": moderator, "may_hand_in": may_hand_in}
