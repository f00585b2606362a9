"""Attendance in a class: who had the room open during a lesson and for how long, who wrote, who asked.

Presence (realtime/presence.py) says when a member's first socket joins a class room and when their
last one leaves; record_arrival/record_departure turn that into AttendanceInterval rows. The report
merges a member's intervals (two tabs never count twice) and clips them to the span.

A process that dies cannot close its intervals. We do not guess when such a member left: an interval
still open counts until the span's end (or now, if sooner), and it is closed when that member next
comes online in the room, at that moment. So a crash can overstate presence, never hide it.

Times are stored and computed in UTC; the page shows and reads them in the classes' time zone
(services/class_time.py, CLASS_TIME_ZONE, UTC unless configured), as homework's due times are.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _

from ..extensions import db
from ..models import AttendanceInterval, ClassLesson, Membership, Message, Room, User, utcnow
from .class_time import class_time_zone, from_class_time, to_class_time
from .errors import ServiceError
from .moderation import ensure_can_moderate, is_moderator
from .rooms import get_membership, list_members

# The longest span one report covers; the span a page starts with (the last hour).
MAX_SPAN = timedelta(days=31)
DEFAULT_SPAN = timedelta(minutes=60)
# How the page's form writes a local time (an <input type="datetime-local">).
LOCAL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")
# A class's weekly lessons: at most this many, each at most this long; the page offers this many past ones.
MAX_LESSONS = 20
MAX_LESSON_MINUTES = 600
RECENT_LESSONS = 8


@dataclass(frozen=True)
class AttendanceRow:
    """One member's attendance in a span."""

    user: User
    role: str
    seconds_present: int
    messages: int
    questions: int

    @property
    def minutes_present(self) -> int:
        """Whole minutes present (rounded down)."""
        return self.seconds_present // 60

    @property
    def present(self) -> bool:
        """Whether they were there at all in the span."""
        return self.seconds_present > 0


@dataclass(frozen=True)
class AttendanceReport:
    """The report for a class and a span; `whole_class` False when the viewer sees only their own row."""

    room: Room
    start: datetime
    end: datetime
    rows: list[AttendanceRow]
    whole_class: bool


def record_arrival(*, user: User, room: Room, now: datetime | None = None) -> None:
    """user's first socket joined the class room: open an interval (closing one a dead process left open)."""
    if not room.is_class:
        return
    moment = now or utcnow()
    _close_open(user_id=user.id, room_id=room.id, moment=moment)
    db.session.add(AttendanceInterval(room_id=room.id, user_id=user.id, started_at=moment))
    db.session.commit()


def record_departure(*, user_id: int, room: Room, now: datetime | None = None) -> None:
    """user's last socket left the class room (or disconnected): close their open interval."""
    if not room.is_class:
        return
    _close_open(user_id=user_id, room_id=room.id, moment=now or utcnow())
    db.session.commit()


def record_disconnect(*, user_id: int, slugs: list[str], now: datetime | None = None) -> None:
    """A socket closed and its user went offline in these rooms: close their intervals in the classes among them."""
    if not slugs:
        return
    room_ids = db.session.scalars(db.select(Room.id).where(Room.slug.in_(slugs), Room.is_class.is_(True))).all()
    for room_id in room_ids:
        _close_open(user_id=user_id, room_id=room_id, moment=now or utcnow())
    if room_ids:
        db.session.commit()


def _close_open(*, user_id: int, room_id: int, moment: datetime) -> None:
    db.session.execute(
        db.update(AttendanceInterval)
        .where(AttendanceInterval.room_id == room_id, AttendanceInterval.user_id == user_id,
               AttendanceInterval.ended_at.is_(None))
        .values(ended_at=moment)
    )


def to_local(moment: datetime) -> datetime:
    """A stored UTC time in the classes' time zone (naive), as the page shows and reads it."""
    return to_class_time(moment)


def from_local(moment: datetime) -> datetime:
    """A naive time in the classes' time zone as stored UTC."""
    return from_class_time(moment)


def parse_span(*, start: str | None, end: str | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The span a form or link gives (local times), in UTC; none given: the last DEFAULT_SPAN up to now."""
    if not start and not end:
        # Up to the next whole minute, so that whoever is here now is in it (the report clips to now).
        until = (now or utcnow()).replace(second=0, microsecond=0) + timedelta(minutes=1)
        return until - DEFAULT_SPAN, until
    return check_span(start=_parse_local(start), end=_parse_local(end))


def _parse_local(text: str | None) -> datetime | None:
    for pattern in LOCAL_FORMATS:
        try:
            return from_local(datetime.strptime((text or "").strip(), pattern))
        except ValueError:
            continue
    return None


def check_span(*, start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """The span as given, or invalid (missing, end not after start, longer than MAX_SPAN)."""
    if start is None or end is None:
        raise ServiceError("invalid", _("Enter a start and an end as date and time, e.g. 2026-03-02 09:00."))
    if end <= start:
        raise ServiceError("invalid", _("The end must be after the start: change one of them."))
    if end - start > MAX_SPAN:
        raise ServiceError("invalid", _("A report covers at most %(days)s days: choose a shorter span.",
                                        days=MAX_SPAN.days))
    return start, end


def can_see_whole_class(*, actor: User, room: Room) -> bool:
    """Whether actor sees every member's attendance (the class's moderators), not only their own."""
    return is_moderator(user=actor, room=room)


def ensure_can_see_attendance(*, actor: User, room: Room) -> bool:
    """Raise unless actor may see room's attendance (a class's members); True if they see the whole class."""
    if not room.is_class:
        raise ServiceError("not_found", _("Only classes keep attendance."))
    whole_class = can_see_whole_class(actor=actor, room=room)
    if not whole_class and get_membership(user=actor, room=room) is None:
        raise ServiceError("forbidden", _("Only members of this class can see its attendance."))
    return whole_class


def timezone_name() -> str:
    """The time zone the page shows and reads times in."""
    return str(class_time_zone())


def attendance_report(
    *, actor: User, room: Room, start: datetime | None, end: datetime | None, now: datetime | None = None,
) -> AttendanceReport:
    """Per member of the class (absent ones too): time present in [start, end), messages and questions written.

    Its moderators see every member; a student sees only their own row; anyone else is refused.
    """
    whole_class = ensure_can_see_attendance(actor=actor, room=room)
    membership = get_membership(user=actor, room=room)
    start, end = check_span(start=start, end=end)
    members: list[Membership] = list_members(room=room) if whole_class else [membership]  # type: ignore[list-item]
    user_ids = [member.user_id for member in members]
    clip_end = min(end, now or utcnow())
    seconds = _seconds_present(room=room, user_ids=user_ids, start=start, end=clip_end)
    messages, questions = _writing(room=room, user_ids=user_ids, start=start, end=end)
    rows = [
        AttendanceRow(user=member.user, role=member.role, seconds_present=seconds.get(member.user_id, 0),
                      messages=messages.get(member.user_id, 0), questions=questions.get(member.user_id, 0))
        for member in members
    ]
    return AttendanceReport(room=room, start=start, end=end, rows=rows, whole_class=whole_class)


def _seconds_present(*, room: Room, user_ids: list[int], start: datetime, end: datetime) -> dict[int, int]:
    """Per user: seconds of [start, end) covered by the union of their intervals (open ones run to end)."""
    if end <= start:
        return {}
    query = (
        db.select(AttendanceInterval.user_id, AttendanceInterval.started_at, AttendanceInterval.ended_at)
        .where(AttendanceInterval.room_id == room.id, AttendanceInterval.user_id.in_(user_ids),
               AttendanceInterval.started_at < end,
               db.or_(AttendanceInterval.ended_at.is_(None), AttendanceInterval.ended_at > start))
        .order_by(AttendanceInterval.user_id, AttendanceInterval.started_at)
    )
    totals: dict[int, int] = {}
    covered_until: dict[int, datetime] = {}
    for user_id, started_at, ended_at in db.session.execute(query):
        lower = max(started_at, start, covered_until.get(user_id, start))
        upper = min(ended_at or end, end)
        if upper > lower:
            totals[user_id] = totals.get(user_id, 0) + int((upper - lower).total_seconds())
            covered_until[user_id] = upper
    return totals


def _writing(*, room: Room, user_ids: list[int], start: datetime, end: datetime) -> tuple[dict, dict]:
    """Per user: messages and questions they wrote in [start, end) (deleted ones not counted)."""
    query = (
        db.select(Message.sender_id, db.func.count(), db.func.sum(db.case((Message.is_question, 1), else_=0)))
        .where(Message.room_id == room.id, Message.sender_id.in_(user_ids), Message.created_at >= start,
               Message.created_at < end, Message.deleted_at.is_(None))
        .group_by(Message.sender_id)
    )
    messages: dict[int, int] = {}
    questions: dict[int, int] = {}
    for sender_id, count, asked in db.session.execute(query):
        messages[sender_id] = int(count)
        questions[sender_id] = int(asked or 0)
    return messages, questions


def ensure_can_download(*, actor: User, room: Room) -> None:
    """Raise unless actor may download the class's attendance file: its moderators (a student sees only their row)."""
    ensure_can_see_attendance(actor=actor, room=room)
    ensure_can_moderate(user=actor, room=room, reading=True)


def attendance_csv(*, actor: User, room: Room, start: datetime | None, end: datetime | None,
                   now: datetime | None = None) -> str:
    """The whole class's attendance in a span as CSV, for its moderators only."""
    ensure_can_download(actor=actor, room=room)
    report = attendance_report(actor=actor, room=room, start=start, end=end, now=now)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("From"), to_local(report.start).strftime("%Y-%m-%d %H:%M"),
                     _("To"), to_local(report.end).strftime("%Y-%m-%d %H:%M"), timezone_name()])
    writer.writerow([_("Username"), _("Name"), _("Role"), _("Present"), _("Minutes present"), _("Messages"),
                     _("Questions")])
    for row in report.rows:
        writer.writerow([_safe(row.user.username), _safe(row.user.display_name), row.role,
                         _("yes") if row.present else _("no"), row.minutes_present, row.messages, row.questions])
    return out.getvalue()


def _safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (=, +, -, @ first)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@dataclass(frozen=True)
class LessonSpan:
    """One occurrence of a weekly lesson, in UTC."""

    lesson: ClassLesson
    start: datetime
    end: datetime


def list_lessons(*, room: Room) -> list[ClassLesson]:
    """The class's weekly lessons, by weekday and time."""
    return list(db.session.scalars(
        db.select(ClassLesson).where(ClassLesson.room_id == room.id)
        .order_by(ClassLesson.weekday, ClassLesson.start_minute, ClassLesson.id)
    ))


def add_lesson(*, actor: User, room: Room, weekday: object, start: object, duration: object) -> ClassLesson:
    """A class's moderator schedules a weekly lesson: weekday 0-6 (Monday first), start "HH:MM" local, minutes."""
    ensure_can_see_attendance(actor=actor, room=room)
    ensure_can_moderate(user=actor, room=room)
    day = _whole_number(weekday)
    if day is None or not 0 <= day <= 6:
        raise ServiceError("invalid", _("Choose the lesson's day of the week."))
    try:
        moment = datetime.strptime(str(start or "").strip(), "%H:%M")
    except ValueError:
        raise ServiceError("invalid", _("Enter the lesson's start as hours and minutes, e.g. 09:00.")) from None
    minutes = _whole_number(duration)
    if minutes is None or not 1 <= minutes <= MAX_LESSON_MINUTES:
        raise ServiceError("invalid", _("A lesson lasts from 1 to %(max)s minutes: change its length.",
                                        max=MAX_LESSON_MINUTES))
    if len(list_lessons(room=room)) >= MAX_LESSONS:
        raise ServiceError("invalid", _("A class has at most %(max)s weekly lessons: remove one first.",
                                        max=MAX_LESSONS))
    lesson = ClassLesson(room_id=room.id, weekday=day, start_minute=moment.hour * 60 + moment.minute,
                         duration_minutes=minutes)
    db.session.add(lesson)
    db.session.commit()
    return lesson


def remove_lesson(*, actor: User, room: Room, lesson_id: int) -> None:
    """A class's moderator removes one of its weekly lessons."""
    ensure_can_see_attendance(actor=actor, room=room)
    ensure_can_moderate(user=actor, room=room)
    lesson = db.session.get(ClassLesson, lesson_id)
    if lesson is None or lesson.room_id != room.id:
        raise ServiceError("not_found", _("There is no such lesson in this class."))
    db.session.delete(lesson)
    db.session.commit()


def recent_lessons(*, room: Room, now: datetime | None = None) -> list[LessonSpan]:
    """The class's lessons that began in the last four weeks, latest first (at most RECENT_LESSONS)."""
    lessons = list_lessons(room=room)
    moment = now or utcnow()
    today = to_local(moment).date()
    spans = []
    for back in range(28):
        day = today - timedelta(days=back)
        for lesson in lessons:
            if lesson.weekday != day.weekday():
                continue
            local_start = datetime(day.year, day.month, day.day) + timedelta(minutes=lesson.start_minute)
            start = from_local(local_start)
            if start <= moment:
                spans.append(LessonSpan(lesson=lesson, start=start,
                                        end=start + timedelta(minutes=lesson.duration_minutes)))
    spans.sort(key=lambda span: span.start, reverse=True)
    return spans[:RECENT_LESSONS]


def _whole_number(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None
