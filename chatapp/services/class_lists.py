"""Class lists: a teacher enrols a whole class at once, and new students get one-time sign-in codes.

Every door (the class page, the CLI, tests) calls `import_class_list`; a list is read and
checked whole first, so a list with any bad line stores nothing and names every bad line.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Membership, Room, SignInCode, User, utcnow
from . import accounts, webhooks
from .errors import ServiceError
from .moderation import ensure_can_moderate
from .rooms import get_membership, is_banned
from .rows import rows_changed
from .text import is_email

# No 0/O, 1/I/L: codes are read off paper and typed on phones.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12  # 31**12: about 59 bits
HEADER_NAMES = {"name", "display name", "display_name", "student", "姓名", "名字", "学生"}
# Unusable as a password hash (argon2 refuses it), so an imported account signs in only with its code.
NO_PASSWORD_YET = "!sign-in-code"
TOO_MANY_COLUMNS = "\0"  # a name no line can have (control characters are refused)


@dataclass
class ListLine:
    """One student line of a class list, as read."""

    number: int
    name: str
    username: str | None
    email: str | None


@dataclass
class LineProblem:
    """What is wrong with one line, in the teacher's language."""

    number: int
    message: str

    def to_dict(self) -> dict:
        """{"line": N, "message": TEXT}."""
        return {"line": self.number, "message": self.message}


@dataclass
class Enrolled:
    """One student after an import: the account, and its new sign-in code (None for an existing account)."""

    user: User
    code: str | None
    created: bool


@dataclass
class ImportResult:
    """What an import did, student by student, and until when the new codes work."""

    room: Room
    students: list[Enrolled] = field(default_factory=list)
    expires_at: object = None

    @property
    def created(self) -> int:
        """How many accounts the import made."""
        return sum(1 for student in self.students if student.created)


# -- reading ------------------------------------------------------------------------------


def decode_class_file(data: bytes) -> tuple[str, str]:
    """The text of an uploaded CSV and the encoding it was in; invalid, naming the line, if it is neither UTF-8 nor GBK.

    Excel saves "CSV" from a Chinese Windows in GBK (GB18030), "CSV UTF-8" with a BOM, and
    "Unicode text" in UTF-16: all three are read. Anything else would turn names into
    nonsense, so it is refused with what to do.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError as not_utf8:
        bad_line = data[: not_utf8.start].count(b"\n") + 1
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    # Accepted only if every non-ASCII character is Chinese: bytes in another encoding (Latin-1,
    # Shift-JIS) also decode as GB18030, into characters no class list has.
    if text is not None and all(ord(ch) < 128 or _is_chinese(ch) for ch in text):
        return text, "GBK"
    raise ServiceError(
        "invalid",
        _(
            "Line %(line)d of the file is not UTF-8 text. Save the list as “CSV UTF-8” and upload it again.",
            line=bad_line,
        ),
        lines=[{"line": bad_line, "message": _("not UTF-8 text")}],
    )


def _is_chinese(ch: str) -> bool:
    name = unicodedata.name(ch, "")
    return name.startswith(("CJK ", "FULLWIDTH ", "IDEOGRAPHIC ", "MIDDLE DOT")) or ch in "·•、，。：；（）【】《》“”‘’"


def read_class_list(text: str) -> list[ListLine]:
    """The lines of a pasted list or CSV: name, then optional username and e-mail, by comma, tab or semicolon.

    Blank lines are passed over; a first line that names its columns ("name, username,
    email", "姓名") is a header.
    """
    lines: list[ListLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        delimiter = "\t" if "\t" in raw else (";" if ";" in raw and "," not in raw else ",")
        cells = [cell.strip() for cell in next(csv.reader([raw], delimiter=delimiter), [])]
        while cells and not cells[-1]:
            cells.pop()
        if not lines and cells and cells[0].lower() in HEADER_NAMES:
            continue
        too_many = len(cells) > 3
        cells += [""] * (3 - len(cells))
        lines.append(ListLine(number=number, name=TOO_MANY_COLUMNS if too_many else cells[0],
                              username=cells[1] or None, email=cells[2] or None))
    return lines


# -- checking ------------------------------------------------------------------------------


def _username_from(name: str, taken: set[str]) -> str:
    """A free username made from a display name (ASCII letters and digits of it, else "student"), numbered."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^a-z0-9]+", ".", ascii_name.lower()).strip(".")[:24] or "student"
    if len(stem) < 3:
        stem = f"{stem}.student" if stem else "student"
    candidate, number = stem, 1
    while candidate in taken or db.session.scalar(db.select(User.id).filter_by(username=candidate)) is not None:
        number += 1
        candidate = f"{stem}{number}"
    taken.add(candidate)
    return candidate


def _check_line(line: ListLine) -> tuple[str | None, str | None, str | None]:
    """(problem, username, email) for one line; usernames and e-mails normalized."""
    if line.name == TOO_MANY_COLUMNS:
        return _("too many columns: give a name, then a username and an e-mail if you have them"), None, None
    if not line.name:
        return _("the name is missing (a line is: name, username, e-mail)"), None, None
    try:
        line.name = accounts.check_display_name(line.name)
    except ServiceError as error:
        return error.message, None, None
    username = None
    if line.username:
        try:
            username = accounts.check_username(line.username)
        except ServiceError as error:
            return error.message, None, None
    email = None
    if line.email:
        email = line.email.strip().lower()
        if not is_email(email):
            return _("“%(email)s” is not an e-mail address", email=line.email[:60]), None, None
    return None, username, email


def check_class_list(*, room: Room, lines: list[ListLine]) -> tuple[list[tuple[ListLine, User | None, str]],
                                                                     list[LineProblem]]:
    """Match each line to an existing account or a new username; every problem, line by line."""
    limit = current_app.config["CLASS_LIST_MAX_LINES"]
    if not lines:
        raise ServiceError("invalid", _("The list is empty: give one student a line (name, username, e-mail)."))
    if len(lines) > limit:
        raise ServiceError("too_large", _("A class list has at most %(max)d students; split it and import each part.",
                                          max=limit))
    problems: list[LineProblem] = []
    planned: list[tuple[ListLine, User | None, str]] = []
    seen_usernames: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    checked = []
    for line in lines:
        problem, username, email = _check_line(line)
        if problem:
            problems.append(LineProblem(line.number, problem))
            continue
        line.email = email
        if username and username in seen_usernames:
            problems.append(LineProblem(line.number, _("the username %(username)s is already on line %(line)d",
                                                       username=username, line=seen_usernames[username])))
        elif email and email in seen_emails:
            problems.append(LineProblem(line.number, _("the e-mail %(email)s is already on line %(line)d",
                                                       email=email, line=seen_emails[email])))
        else:
            seen_usernames.update({username: line.number} if username else {})
            seen_emails.update({email: line.number} if email else {})
            checked.append((line, username))
    taken = set(seen_usernames)
    for line, username in checked:
        existing = None
        if username:
            existing = db.session.scalar(db.select(User).filter_by(username=username))
        elif line.email:
            existing = db.session.scalar(db.select(User).filter_by(email=line.email))
        if existing is not None:
            if existing.is_visitor:
                problems.append(LineProblem(line.number, _("%(username)s is taken by a website visitor; choose another",
                                                           username=existing.username)))
                continue
            if is_banned(user=existing, room=room):
                problems.append(LineProblem(line.number, _("%(username)s is banned from this class; unban them first",
                                                           username=existing.username)))
                continue
            planned.append((line, existing, existing.username))
        else:
            planned.append((line, None, username or _username_from(line.name, taken)))
    problems.sort(key=lambda problem: problem.number)
    return planned, problems


# -- codes ----------------------------------------------------------------------------------


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """ABCD-EFGH-JKMN: easier to read off a slip."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def _normalize_code(code: object) -> str:
    return re.sub(r"[\s-]+", "", code).upper() if isinstance(code, str) else ""


def _hash_code(code: str) -> str:
    return hashlib.sha256(_normalize_code(code).encode()).hexdigest()


def _code_lifetime(days: object) -> timedelta:
    most = current_app.config["SIGN_IN_CODE_MAX_DAYS"]
    if days is None or days == "":
        days = current_app.config["SIGN_IN_CODE_DAYS"]
    try:
        count = int(days)  # type: ignore[call-overload]  # any door's value: int() says if it is a number
    except (TypeError, ValueError):
        count = 0
    if not 1 <= count <= most:
        raise ServiceError("invalid", _("Sign-in codes work for 1 to %(max)d days.", max=most))
    return timedelta(days=count)


def _add_code(*, user: User, room: Room | None, actor: User | None, lifetime: timedelta) -> str:
    """A new code for user, replacing any code of theirs not yet used (the caller commits)."""
    now = utcnow()
    db.session.execute(db.update(SignInCode).where(SignInCode.user_id == user.id, SignInCode.used_at.is_(None))
                       .values(used_at=now))
    code = _new_code()
    db.session.add(SignInCode(user_id=user.id, code_hash=_hash_code(code), room_id=room.id if room else None,
                              created_by_id=actor.id if actor else None, expires_at=now + lifetime))
    return format_code(code)


# -- the doors' services ------------------------------------------------------------------------


def ensure_can_import(*, actor: User, room: Room) -> None:
    """Raise unless actor moderates room and room is one people join by invitation (a class or a private room)."""
    ensure_can_moderate(user=actor, room=room)
    if not room.is_private or room.is_direct or room.is_support:
        raise ServiceError(
            "invalid", _("Class lists are for classes and private rooms; anyone can already join this one.")
        )


def import_class_list(*, actor: User, room: Room, text: str, days: object = None) -> ImportResult:
    """Enrol every student of the list in room, creating accounts with sign-in codes; all or nothing."""
    ensure_can_import(actor=actor, room=room)
    lifetime = _code_lifetime(days)
    planned, problems = check_class_list(room=room, lines=read_class_list(text or ""))
    if problems:
        raise ServiceError(
            "invalid",
            _("Nothing was imported: fix the lines below and try again."),
            lines=[problem.to_dict() for problem in problems],
        )
    result = ImportResult(room=room, expires_at=utcnow() + lifetime)
    for line, existing, username in planned:
        if existing is None:
            user = User(username=username, display_name=line.name, role="member", email=line.email,
                        password_hash=NO_PASSWORD_YET)
            db.session.add(user)
            db.session.flush()
            result.students.append(Enrolled(user=user, code=_add_code(user=user, room=room, actor=actor,
                                                                      lifetime=lifetime), created=True))
        else:
            user = existing
            if line.email and not user.email:
                user.email = line.email
            result.students.append(Enrolled(user=user, code=None, created=False))
        if get_membership(user=user, room=room) is None:
            db.session.add(Membership(user_id=user.id, room_id=room.id, role="member"))
            webhooks.member_joined(user=user, room=room)
    try:
        db.session.commit()
    except IntegrityError:  # a username taken meanwhile by another import or a registration
        db.session.rollback()
        raise ServiceError(
            "conflict", _("Someone took one of these usernames just now; import the list again.")
        ) from None
    return result


def ensure_can_issue_code(*, actor: User, user: User, room: Room | None) -> None:
    """An admin may give anyone (but a visitor) a new code; a teacher only a student of a class they moderate."""
    if user.is_visitor:
        raise ServiceError("forbidden", _("A website visitor is not an account; it cannot sign in."))
    if user.is_bot:
        raise ServiceError("forbidden", _("A bot never signs in; give it an access token instead."))
    if actor.is_admin:
        return
    if room is None:
        raise ServiceError("forbidden", _("Only an admin can do that."))
    ensure_can_import(actor=actor, room=room)
    membership = get_membership(user=user, room=room)
    if membership is None or membership.role != "member" or user.role != "member" or user.id == actor.id:
        raise ServiceError("forbidden", _("You can give new sign-in codes only to the students of this class."))


def issue_sign_in_code(*, actor: User, user: User, room: Room | None = None, days: object = None) -> tuple[str, object]:
    """A new one-time code for user (their old unused one stops working); the code and when it expires."""
    ensure_can_issue_code(actor=actor, user=user, room=room)
    lifetime = _code_lifetime(days)
    code = _add_code(user=user, room=room, actor=actor, lifetime=lifetime)
    db.session.commit()
    return code, utcnow() + lifetime


def redeem_sign_in_code(*, username: str, code: str, password: str, address: str | None) -> User:
    """Sign in once with a code and choose a password; throttled like a login, and the code then stops working."""
    accounts.check_login_allowed(username=username, address=address)
    accounts.check_password(password)
    name = accounts.normalize_username(username)
    now = utcnow()
    found = db.session.scalar(
        db.select(SignInCode).join(User, User.id == SignInCode.user_id)
        .where(User.username == name, SignInCode.code_hash == _hash_code(code),
               SignInCode.used_at.is_(None), SignInCode.expires_at > now)
    )
    user = found.user if found is not None else None
    if user is None or not user.is_active or user.is_visitor or user.is_bot:
        accounts.record_login(username=username, address=address, succeeded=False)
        raise ServiceError("unauthorized", _("That username and sign-in code do not match, or the code was used or has "
                                             "expired. Ask your teacher for a new one."))
    # Claimed with a conditional update, so two tabs redeeming the same code cannot both succeed.
    claimed = rows_changed(
        db.update(SignInCode).where(SignInCode.id == found.id, SignInCode.used_at.is_(None)).values(used_at=now)
    )
    if not claimed:
        db.session.rollback()
        raise ServiceError("unauthorized", _("That sign-in code was just used. Log in with your new password."))
    user.set_password(password)
    user.session_epoch += 1  # a code is a fresh start: sessions from before it end
    db.session.commit()
    accounts.record_login(username=username, address=address, succeeded=True)
    return user


def class_students(*, actor: User, room: Room) -> list[Membership]:
    """The students (members, not moderators) of room, by name, for its teacher's class-list page."""
    ensure_can_import(actor=actor, room=room)
    return list(db.session.scalars(
        db.select(Membership).join(User, User.id == Membership.user_id)
        .where(Membership.room_id == room.id, Membership.role == "member", User.role == "member")
        .order_by(User.display_name)
    ))


def codes_as_csv(result_rows: list[tuple[str, str, str | None]], *, sign_in_url: str) -> str:
    """The sheet as CSV (name, username, code, where to sign in), with a BOM so Excel reads the Chinese right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Name"), _("Username"), _("Sign-in code"), _("Sign in at")])
    for name, username, code in result_rows:
        writer.writerow([_csv_safe(name), username, code or "", sign_in_url])
    return "\ufeff" + out.getvalue()


def _csv_safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (=, +, -, @ first)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
