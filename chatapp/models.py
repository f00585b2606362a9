"""Tables and their small domain methods."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlalchemy.orm import relationship

from .extensions import db
from .markup import render_markdown

# Flask-SQLAlchemy makes db.Model at run time, so mypy cannot take it as a base class; as Any
# it can (the columns, db.Column, are Any to mypy as well).
Model: Any = db.Model
# Relationships come from SQLAlchemy itself, typed as descriptors (an instance's attribute is the
# related row); db.relationship only adds its Query class to dynamic ones and backrefs (none here).

# OWASP's minimum for argon2id: 19 MiB of memory, 2 iterations, 1 degree of parallelism.
password_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def app_password_hasher() -> PasswordHasher:
    """This app's hasher: password_hasher, unless the config's PASSWORD_HASHER names another.

    Only the test suite names one (tests/conftest.py: argon2id at its cheapest, as most tests
    make five accounts); tests/test_auth.py checks what production stores.
    """
    return current_app.config.get("PASSWORD_HASHER") or password_hasher


ROLES = ("admin", "staff", "member")
ROOM_KINDS = ("public", "private")
# A website visitor talking to the support desk through the widget: a User row, so that the
# whole message pipeline works for them, but never an account anyone logs in to.
VISITOR_ROLE = "visitor"
# A support conversation's room; created by services/support.py, never by people.
SUPPORT_ROOM_KIND = "support"
# A conversation between exactly two accounts (services/rooms.open_direct_room).
DIRECT_ROOM_KIND = "direct"
CONVERSATION_STATUSES = ("open", "pending", "resolved")
# How a site's new conversations reach an agent (services/routing.py).
ROUTING_MODES = ("manual", "auto")
# What an agent chooses in the console; "offline" is never chosen, it is having no console open.
AGENT_CHOICES = ("online", "away")
AGENT_STATUSES = ("online", "away", "offline")


def utcnow() -> datetime:
    """The current time in UTC, without tzinfo (as the database stores it)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def isoformat_utc(moment: datetime) -> str:
    """Format a naive UTC datetime as 2026-11-29T08:15:30.123Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class User(UserMixin, Model):
    """An account: admin, staff or member; or a widget visitor (role "visitor")."""

    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(32), nullable=False, unique=True)
    display_name = db.Column(db.String(64), nullable=False)
    password_hash = db.Column(db.String(255), nullable=False)
    role = db.Column(db.String(16), nullable=False, default="member")
    is_active_account = db.Column(db.Boolean, nullable=False, default=True)
    # Bumped on logout and deactivation so that every session issued before is refused.
    session_epoch = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    # The interface language ("en", "zh_CN"); None: follow the browser.
    language = db.Column(db.String(16))
    # Optional contact address (a teacher's class list may carry it); never shown to visitors.
    email = db.Column(db.String(254))
    # Which e-mails this person wants (services/subscriptions.py; each e-mail's unsubscribe link
    # turns its own off): a visitor's replies and transcripts; an agent's notices of visitors who
    # wrote while no agent was online; a member's unread direct messages, unread @mentions and
    # class announcements.
    mail_desk = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())
    mail_support = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())
    mail_direct = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())
    mail_mentions = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    mail_announcements = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())
    # Whether others see when this person has read their messages (services/receipts.py); off,
    # they see nobody else's either.
    share_reads = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())
    # The highest message id an unread-message e-mail to this member has covered (services/member_mail.py).
    mailed_through_id = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    # A bot: an account an admin made for an integration. It never logs in with a password
    # (its hash matches none); it acts through its access tokens on the API (services/api_tokens.py).
    is_bot = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())

    __table_args__ = (CheckConstraint("role IN ('admin', 'staff', 'member', 'visitor')", name="role"),)

    def set_password(self, password: str) -> None:
        """Store an argon2id hash of password."""
        self.password_hash = app_password_hasher().hash(password)

    def check_password(self, password: str) -> bool:
        """Whether password matches the stored hash (rehashing if the parameters changed)."""
        hasher = app_password_hasher()
        try:
            hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if hasher.check_needs_rehash(self.password_hash):
            self.set_password(password)
        return True

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return bool(self.is_active_account)

    @property
    def is_admin(self) -> bool:
        """An admin runs the whole server."""
        return self.role == "admin"

    @property
    def is_staff(self) -> bool:
        """Admins and staff both count as staff."""
        return self.role in ("admin", "staff")

    @property
    def is_visitor(self) -> bool:
        """A website visitor of the support widget (never a login account)."""
        return self.role == VISITOR_ROLE

    def get_id(self) -> str:
        """The session id carries the epoch, so bumping it ends old sessions."""
        return f"{self.id}:{self.session_epoch}"

    def to_dict(self) -> dict:
        """The USER shape of the Socket.IO contract (`bot: true` added on bots only)."""
        data = {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
        }
        if self.is_bot:
            # Only on bots, like MESSAGE's `internal`: every other USER keeps the exact shape
            # that clients written against the first protocol version expect.
            data["bot"] = True
        return data


class SignInCode(Model):
    """A one-time code that lets a student from a class list sign in once and choose a password.

    Only its SHA-256 is stored (the code is random, ~60 bits, and lives for days, so a
    slow password hash would add nothing but cost on a 500-line import).
    """

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    code_hash = db.Column(db.String(64), nullable=False, unique=True)
    room_id = db.Column(db.Integer, db.ForeignKey("room.id", ondelete="SET NULL"))
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    expires_at = db.Column(db.DateTime, nullable=False)
    used_at = db.Column(db.DateTime)  # set when redeemed, or when a newer code replaced it

    user = relationship("User", foreign_keys=[user_id])


class Room(Model):
    """A place where people talk: public to every account, private to its members, or a support conversation."""

    id = db.Column(db.Integer, primary_key=True)
    slug = db.Column(db.String(64), nullable=False, unique=True)
    name = db.Column(db.String(80), nullable=False)
    kind = db.Column(db.String(16), nullable=False, default="public")
    join_code = db.Column(db.String(16), unique=True)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    # Classroom and moderation (services/moderation.py). A class is a private room a teacher
    # made; its join code may expire (None: never).
    is_class = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    join_code_expires_at = db.Column(db.DateTime)
    # Only moderators post; members read.
    announcement_only = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    # Seconds a member waits between two messages here (0: off); moderators are exempt.
    slow_mode_seconds = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    # Members may ask questions anonymously (Message.anonymous): the class sees no name, moderators do.
    allow_anonymous_questions = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    # A direct room's pair, "<smaller user id>:<larger user id>": unique, so a pair has one room.
    direct_key = db.Column(db.String(32), unique=True)
    # How many times a stored message here has changed (edited, deleted, pinned, asked, answered…):
    # each change takes the next number, so a client that was away asks for the changes after its own.
    revision = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    # A class archived at the end of term (services/archive.py): read-only for everyone, listed
    # under "Archived"; None: in use. Its teacher can restore it.
    archived_at = db.Column(db.DateTime)

    __table_args__ = (CheckConstraint("kind IN ('public', 'private', 'support', 'direct')", name="kind"),)

    @property
    def is_archived(self) -> bool:
        """Whether the room was archived (read-only)."""
        return self.archived_at is not None

    @property
    def is_private(self) -> bool:
        """Whether only members may enter."""
        return self.kind == "private"

    @property
    def is_support(self) -> bool:
        """Whether this room is a support conversation (staff and its one visitor)."""
        return self.kind == SUPPORT_ROOM_KIND

    @property
    def is_direct(self) -> bool:
        """Whether this room holds direct messages between two accounts."""
        return self.kind == DIRECT_ROOM_KIND

    def to_dict(self) -> dict:
        """The ROOM shape of the Socket.IO contract, with the room's settings (never its join code)."""
        return {
            "slug": self.slug,
            "name": self.name,
            "kind": self.kind,
            "is_class": bool(self.is_class),
            "announcement_only": bool(self.announcement_only),
            "slow_mode_seconds": self.slow_mode_seconds or 0,
            **({"archived_at": isoformat_utc(self.archived_at)} if self.archived_at else {}),
            # Only on rooms that allow them, like archived_at: other rooms keep ROOM's first shape.
            **({"allow_anonymous_questions": True} if self.allow_anonymous_questions else {}),
        }


class Membership(Model):
    """A user's place in a room."""

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    room_id = db.Column(db.Integer, db.ForeignKey("room.id", ondelete="CASCADE"), nullable=False)
    role = db.Column(db.String(16), nullable=False, default="member")
    joined_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    # The highest message id this user has seen here (the `read` event); unread = newer ones.
    last_read_id = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    # In a direct room or a conversation: the highest message id this user's devices received (the
    # join, the `delivered` event; reading implies it): the other side's messages say "Delivered".
    delivered_id = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    # A moderator muted this member until then (UTC); None or past: not muted.
    muted_until = db.Column(db.DateTime)

    user = relationship("User", lazy="joined")
    room = relationship("Room")

    @property
    def is_moderator(self) -> bool:
        """Owners and moderators moderate the room."""
        return self.role in ("owner", "moderator")

    def is_muted(self, now: datetime | None = None) -> bool:
        """Whether a moderator's mute still holds."""
        return self.muted_until is not None and self.muted_until > (now or utcnow())

    def to_dict(self) -> dict:
        """The MEMBER shape: the user, their role in the room and until when they are muted."""
        return {
            "room": self.room.slug,
            "user": self.user.to_dict(),
            "role": self.role,
            "muted_until": isoformat_utc(self.muted_until) if self.is_muted() else None,
        }

    __table_args__ = (
        UniqueConstraint("user_id", "room_id"),
        CheckConstraint("role IN ('owner', 'moderator', 'member')", name="role"),
        Index("ix_membership_room_id", "room_id"),
    )


# How much of the message a reply answers it shows (the rest is a click away).
REPLY_EXCERPT_LENGTH = 140
# A message with no text is quoted by its pictures' and files' names, each after the icon its kind has
# on the file card (templates/rooms/_attachments.html): words in no language, as the excerpt goes
# to everyone in the room alike.
EXCERPT_ICONS = {"image": "🖼️", "audio": "🎵", "video": "🎬"}
EXCERPT_FILE_ICON = "📄"


# Who an anonymous message is from, as a classmate sees it: nobody (USER's keys, all null).
ANONYMOUS_SENDER = {"id": None, "username": None, "display_name": None, "role": None}


class Message(Model):
    """One message; ids increase in the order messages are stored."""

    id = db.Column(db.Integer, primary_key=True)
    room_id = db.Column(db.Integer, db.ForeignKey("room.id", ondelete="CASCADE"), nullable=False)
    sender_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    body = db.Column(db.Text, nullable=False)
    client_id = db.Column(db.String(64))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    # A staff-only note in a support conversation: never shown to the visitor.
    internal = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    # Deleted by its author or a moderator: the row stays (ids are never reused), the body is blanked.
    # (The *_by_id references have no ON DELETE: SQLite added them in place, where it cannot
    # reflect one; accounts are deactivated, never deleted.)
    deleted_at = db.Column(db.DateTime)
    deleted_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    deleted_by_moderator = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    # An announcement pinned to the top of the room by a moderator.
    pinned_at = db.Column(db.DateTime)
    pinned_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    # When a class's pinned announcement was e-mailed to its students (once: pinning it again does not).
    mailed_at = db.Column(db.DateTime)
    # A pinned announcement that each student is asked to acknowledge (services/acknowledgements.py).
    needs_ack = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    # A raised hand: its author asked it as a question; a moderator marks it answered.
    is_question = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    answered_at = db.Column(db.DateTime)
    answered_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    # The message this one answers ("Reply"), in the same room (services/messages.check_reply_target).
    reply_to_id = db.Column(db.Integer, db.ForeignKey("message.id"))
    # Set when its author last edited the body (services/messages.edit_message).
    edited_at = db.Column(db.DateTime)
    # The room's revision at this message's latest change (0: never changed since it was sent).
    revision = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    # An anonymous question: sender_id stays the real author (mutes, slow mode, withdrawing), but
    # to_dict() shows no author unless reveal_author (moderators, the author: services/anonymity.py).
    anonymous = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())

    sender = relationship("User", foreign_keys=[sender_id], lazy="joined")
    room = relationship("Room", lazy="joined")
    pinned_by = relationship("User", foreign_keys=[pinned_by_id])
    answered_by = relationship("User", foreign_keys=[answered_by_id])
    # Many-to-one by primary key: found in the session when the page holds it, or loaded for the
    # whole page at once beforehand (services/messages.with_answered), so no page costs one per reply.
    reply_to = relationship("Message", remote_side=[id], foreign_keys=[reply_to_id])
    # selectin: a page of 50 messages loads its pictures and mentions in one query each.
    attachments = relationship("Attachment", lazy="selectin", order_by="Attachment.id", viewonly=True)
    mention_rows = relationship("MessageMention", lazy="selectin", order_by="MessageMention.user_id",
                                   cascade="all, delete-orphan")
    # Emoji reactions, in the order given (with each reactor, in the same one query per page);
    # services/reactions.py writes them, the database removes them with the message.
    reaction_rows = relationship("Reaction", lazy="selectin", order_by="Reaction.id",
                                 viewonly=True)
    # The poll this message carries, if a moderator posted one (services/polls.py): joined, so that a page
    # of messages costs no statement more for it (tests/test_history_queries.py).
    poll = relationship("Poll", lazy="joined", uselist=False, viewonly=True)
    # The homework this message carries, if a teacher set one (services/homework.py); joined, like poll.
    assignment = relationship("Assignment", lazy="joined", uselist=False, viewonly=True)

    __table_args__ = (
        # The database itself makes a retried send idempotent, across restarts.
        UniqueConstraint("sender_id", "client_id"),
        # History pages walk one room by id in either direction.
        Index("ix_message_room_id_id", "room_id", "id"),
        # Slow mode: one member's latest message in one room.
        Index("ix_message_room_id_sender_id_id", "room_id", "sender_id", "id"),
        # Catch-up: a room's messages changed after a client's revision.
        Index("ix_message_room_id_revision", "room_id", "revision"),
        # AUTOINCREMENT: an id is never handed out twice, even after the newest row is deleted.
        {"sqlite_autoincrement": True},
    )

    def to_dict(self, *, reveal_author: bool = False) -> dict:
        """The MESSAGE shape of the Socket.IO contract (`internal: true` added on staff notes only).

        An anonymous message shows ANONYMOUS_SENDER and no client_id unless reveal_author, which
        only services/anonymity.py decides (for a moderator of the room or the author).
        """
        hidden = bool(self.anonymous) and not reveal_author
        data = {
            "id": self.id,
            "room": self.room.slug,
            "sender": dict(ANONYMOUS_SENDER) if hidden else self.sender.to_dict(),
            "body": self.body,
            "client_id": None if hidden else self.client_id,
            "created_at": isoformat_utc(self.created_at),
            # The body rendered from the safe Markdown subset and sanitized (markup.py).
            "html": render_markdown(self.body),
        }
        if self.anonymous:
            data["anonymous"] = True
        if self.internal:
            # Only on notes, which only staff ever receive: ordinary messages keep the exact
            # shape that clients written against the first protocol version expect.
            data["internal"] = True
        # Classroom fields, likewise only on the messages they describe (docs/protocol.md).
        if self.deleted_at is not None:
            data["deleted"] = True
            data["deleted_by"] = "moderator" if self.deleted_by_moderator else "author"
            return data  # nothing else of a deleted message is shown
        # Messaging fields, likewise only on the messages they describe (docs/protocol.md).
        if self.reply_to is not None:
            data["reply_to"] = self.reply_to.as_quoted()
        excerpt = self.excerpt
        if excerpt != self.body:
            data["excerpt"] = excerpt  # a reply's quote of it, when that is not just its body
        if self.edited_at is not None:
            data["edited_at"] = isoformat_utc(self.edited_at)
        if self.attachments:
            data["attachments"] = [attachment.to_dict() for attachment in self.attachments]
        if self.mention_rows:
            data["mentions"] = [row.user_id for row in self.mention_rows]
        if self.reaction_rows:
            data["reactions"] = self.reactions()
        if self.pinned_at is not None:
            data["pinned"] = True
            data["pinned_at"] = isoformat_utc(self.pinned_at)
            data["pinned_by"] = self.pinned_by.to_dict() if self.pinned_by else None
            if self.needs_ack:
                data["needs_ack"] = True
        if self.poll is not None:
            data["poll"] = self.poll.to_dict()  # the room's view: no names, counts only once all may see them
        if self.assignment is not None:
            data["assignment"] = self.assignment.to_dict()  # no hand-in of anybody
        if self.is_question:
            data["question"] = {
                "answered": self.answered_at is not None,
                "answered_at": isoformat_utc(self.answered_at) if self.answered_at else None,
                "answered_by": self.answered_by.to_dict() if self.answered_by else None,
            }
        return data

    @property
    def is_deleted(self) -> bool:
        """Whether its author or a moderator deleted it."""
        return self.deleted_at is not None

    @property
    def excerpt(self) -> str:
        """How a reply quotes this message: its text with white space folded, cut at REPLY_EXCERPT_LENGTH; with no
        text, its pictures and files by name ("🖼️ map.png, 📄 plan.pdf"). Empty once it is deleted.

        The one place an excerpt is made: MESSAGE carries it when it is not the body itself (`excerpt`),
        so that the scripts quote what the server would (static/js/replies.js).
        """
        if self.deleted_at is not None:
            return ""
        excerpt = " ".join(self.body.split())
        if not excerpt and self.attachments:
            excerpt = ", ".join(
                f"{EXCERPT_ICONS.get(attachment.kind, EXCERPT_FILE_ICON)} {attachment.display_name}"
                for attachment in self.attachments
            )
        if len(excerpt) > REPLY_EXCERPT_LENGTH:
            excerpt = excerpt[:REPLY_EXCERPT_LENGTH - 1].rstrip() + "…"
        return excerpt

    def as_quoted(self) -> dict:
        """The REPLY_TO shape: how a reply shows the message it answers (its excerpt gone once it is deleted)."""
        sender = dict(ANONYMOUS_SENDER) if self.anonymous else self.sender.to_dict()
        return {"id": self.id, "sender": sender, "excerpt": self.excerpt,
                "deleted": self.deleted_at is not None}

    def reactions(self) -> list[dict]:
        """REACTIONS: each emoji once, in the order first given, with its count, every reactor's id
        and the first REACTION_USERS_SHOWN reactors (for their names)."""
        groups: dict[str, list[Reaction]] = {}
        for row in self.reaction_rows:
            groups.setdefault(row.emoji, []).append(row)
        return [
            {
                "emoji": emoji,
                "count": len(rows),
                "user_ids": [row.user_id for row in rows],
                "users": [row.user.to_dict() for row in rows[:REACTION_USERS_SHOWN]],
            }
            for emoji, rows in groups.items()
        ]


class Ban(Model):
    """A user a moderator banned from a room: they are not a member and cannot come back until unbanned."""

    id = db.Column(db.Integer, primary_key=True)
    room_id = db.Column(db.Integer, db.ForeignKey("room.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    banned_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    reason = db.Column(db.String(200))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    user = relationship("User", foreign_keys=[user_id], lazy="joined")
    banned_by = relationship("User", foreign_keys=[banned_by_id], lazy="joined")
    room = relationship("Room")

    __table_args__ = (UniqueConstraint("room_id", "user_id"),)

    def to_dict(self) -> dict:
        """A ban as moderators see it."""
        return {
            "room": self.room.slug,
            "user": self.user.to_dict(),
            "by": self.banned_by.to_dict() if self.banned_by else None,
            "reason": self.reason,
            "created_at": isoformat_utc(self.created_at),
        }


MODERATION_ACTIONS = (
    "settings", "join_code", "pin", "unpin", "delete_message", "mute", "unmute",
    "remove", "ban", "unban", "set_role", "answer_question", "reopen_question", "archive", "restore", "export",
)


class ModerationAction(Model):
    """One entry of a room's moderation log, written in the same transaction as the action itself."""

    id = db.Column(db.Integer, primary_key=True)
    room_id = db.Column(db.Integer, db.ForeignKey("room.id", ondelete="CASCADE"), nullable=False)
    actor_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    action = db.Column(db.String(32), nullable=False)
    target_user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    target_message_id = db.Column(db.Integer, db.ForeignKey("message.id", ondelete="SET NULL"))
    detail = db.Column(db.JSON, nullable=False, default=dict)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    actor = relationship("User", foreign_keys=[actor_id], lazy="joined")
    target_user = relationship("User", foreign_keys=[target_user_id], lazy="joined")
    room = relationship("Room")

    __table_args__ = (Index("ix_moderation_action_room_id_id", "room_id", "id"),)

    def to_dict(self) -> dict:
        """The ACTION shape of the moderation log."""
        return {
            "id": self.id,
            "room": self.room.slug,
            "action": self.action,
            "actor": self.actor.to_dict() if self.actor else None,
            "target_user": self.target_user.to_dict() if self.target_user else None,
            "target_message_id": self.target_message_id,
            "detail": dict(self.detail or {}),
            "created_at": isoformat_utc(self.created_at),
        }


class Site(Model):
    """A website that embeds the support widget: its public key, allowed origins and options."""

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    # Public: it is in the embed snippet on every page of the site.
    site_key = db.Column(db.String(32), nullable=False, unique=True)
    # Space-separated origins ("https://shop.example") allowed to frame the widget.
    allowed_origins = db.Column(db.Text, nullable=False, default="")
    # Signs the host page's own user ids (HMAC-SHA256); None: identities are not verified.
    identity_secret = db.Column(db.String(128))
    prechat_enabled = db.Column(db.Boolean, nullable=False, default=False)
    prechat_name_required = db.Column(db.Boolean, nullable=False, default=False)
    prechat_email_required = db.Column(db.Boolean, nullable=False, default=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    # The widget's language ("en", "zh_CN"); None: the host page's, else the visitor's browser's.
    language = db.Column(db.String(16))
    # The desk (services/routing.py, teams.py, hours.py): which team answers, and how.
    team_id = db.Column(db.Integer, db.ForeignKey("team.id", ondelete="SET NULL"))
    routing = db.Column(db.String(16), nullable=False, default="manual", server_default="manual")
    # Open conversations an agent may hold before routing skips them; None: no limit. An agent's own cap wins.
    agent_cap = db.Column(db.Integer)
    # When an assigned agent goes offline, their open conversations go back to the queue.
    requeue_on_offline = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    # Business hours: an IANA time zone, a weekly schedule {"0": [["09:00", "17:00"]], ...}
    # (0 is Monday; None: always open) and holidays ["2026-12-25", ...], all in that zone.
    timezone = db.Column(db.String(64), nullable=False, default="UTC", server_default="UTC")
    schedule = db.Column(db.JSON)
    holidays = db.Column(db.JSON, nullable=False, default=list)
    # E-mail the visitor the whole conversation when an agent resolves it (services/visitor_mail.py).
    transcript_on_resolve = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())

    team = relationship("Team", lazy="joined")

    __table_args__ = (
        CheckConstraint("routing IN ('manual', 'auto')", name="routing"),
        CheckConstraint("agent_cap IS NULL OR agent_cap >= 1", name="agent_cap"),
    )

    @property
    def origins(self) -> list[str]:
        """The allowed origins as a list."""
        return self.allowed_origins.split()

    def to_dict(self) -> dict:
        """What a visitor's widget may know about the site (never the identity secret)."""
        return {
            "name": self.name,
            "prechat": {
                "enabled": bool(self.prechat_enabled),
                "name_required": bool(self.prechat_name_required),
                "email_required": bool(self.prechat_email_required),
            },
        }


class VisitorProfile(Model):
    """What the desk knows about a visitor: the site, contact details, where they are, their browser."""

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, unique=True)
    site_id = db.Column(db.Integer, db.ForeignKey("site.id", ondelete="CASCADE"), nullable=False)
    name = db.Column(db.String(64))
    email = db.Column(db.String(254))
    # The host site's own user id, for visitors whose identity the host page signed.
    external_id = db.Column(db.String(128))
    page_url = db.Column(db.String(2000))
    user_agent = db.Column(db.String(400))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    last_seen_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    user = relationship("User", lazy="joined")
    site = relationship("Site", lazy="joined")

    __table_args__ = (UniqueConstraint("site_id", "external_id"),)

    def to_dict(self) -> dict:
        """The contact details staff see (never sent to a visitor other than this one)."""
        return {
            "name": self.name,
            "email": self.email,
            "external_id": self.external_id,
            "page_url": self.page_url,
            "user_agent": self.user_agent,
            "first_seen_at": isoformat_utc(self.created_at),
            "last_seen_at": isoformat_utc(self.last_seen_at),
        }


class Conversation(Model):
    """A support conversation: a room of kind "support" with one visitor in it, and its state."""

    id = db.Column(db.Integer, primary_key=True)
    room_id = db.Column(db.Integer, db.ForeignKey("room.id", ondelete="CASCADE"), nullable=False, unique=True)
    site_id = db.Column(db.Integer, db.ForeignKey("site.id", ondelete="CASCADE"), nullable=False)
    # One conversation per visitor: a returning visitor continues it.
    visitor_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, unique=True)
    status = db.Column(db.String(16), nullable=False, default="open")
    assignee_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    # None until the first message: the queue shows only conversations somebody wrote in.
    last_message_at = db.Column(db.DateTime)
    last_message_id = db.Column(db.Integer, db.ForeignKey("message.id", ondelete="SET NULL"))
    resolved_at = db.Column(db.DateTime)
    rating = db.Column(db.Integer)
    rating_comment = db.Column(db.Text)
    rated_at = db.Column(db.DateTime)
    # Since when it waits for an agent (the visitor's message that opened it): routing takes the
    # oldest first. None while assigned, resolved, or before anyone wrote.
    waiting_since = db.Column(db.DateTime)
    assigned_at = db.Column(db.DateTime)
    # The highest message id an e-mail of replies to the visitor has covered (services/visitor_mail.py).
    mailed_through_id = db.Column(db.Integer, nullable=False, default=0, server_default="0")

    room = relationship("Room", lazy="joined")
    site = relationship("Site", lazy="joined")
    visitor = relationship("User", foreign_keys=[visitor_id], lazy="joined")
    assignee = relationship("User", foreign_keys=[assignee_id], lazy="joined")
    last_message = relationship("Message", foreign_keys=[last_message_id])

    __table_args__ = (
        CheckConstraint("status IN ('open', 'pending', 'resolved')", name="status"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating"),
        # The queue: one status, newest activity first.
        Index("ix_conversation_status_last_message_at", "status", "last_message_at"),
        Index("ix_conversation_waiting_since", "waiting_since"),
        Index("ix_conversation_assignee_id_status", "assignee_id", "status"),
    )


class Episode(Model):
    """One stretch of a conversation from the visitor's message that opened it to its resolution.

    The stored facts the desk's reports count (services/reports.py): a conversation that is
    reopened has a new episode. Written by services/support.py in the transaction of the change.
    """

    id = db.Column(db.Integer, primary_key=True)
    conversation_id = db.Column(db.Integer, db.ForeignKey("conversation.id", ondelete="CASCADE"), nullable=False)
    site_id = db.Column(db.Integer, db.ForeignKey("site.id", ondelete="CASCADE"), nullable=False)
    opened_at = db.Column(db.DateTime, nullable=False)
    # The first reply a visitor could see (not an internal note), and who wrote it.
    first_response_at = db.Column(db.DateTime)
    first_responder_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    # Replies visitors could see, written by staff in this episode.
    agent_replies = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    resolved_at = db.Column(db.DateTime)
    resolved_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    # Who had the conversation when it was resolved.
    assignee_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))

    conversation = relationship("Conversation")

    __table_args__ = (
        Index("ix_episode_site_id_opened_at", "site_id", "opened_at"),
        Index("ix_episode_conversation_id", "conversation_id"),
        Index("ix_episode_resolved_at", "resolved_at"),
    )


class Team(Model):
    """A group of agents who answer the sites given to it; its leads run its routing and read its reports."""

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False, unique=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class TeamMember(Model):
    """An agent in a team, and whether they lead it."""

    team_id = db.Column(db.Integer, db.ForeignKey("team.id", ondelete="CASCADE"), primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    is_lead = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())

    user = relationship("User", lazy="joined")
    team = relationship("Team", lazy="joined")

    __table_args__ = (Index("ix_team_member_user_id", "user_id"),)


class AgentState(Model):
    """An agent's availability as they chose it, and what routing keeps about them (services/availability.py)."""

    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    choice = db.Column(db.String(16), nullable=False, default="online", server_default="online")
    # The console's last sign of the agent at the keyboard: idle longer than AGENT_IDLE_SECONDS is away.
    last_active_at = db.Column(db.DateTime)
    # The status last announced ("online", "away", "offline"): whoever changes it announces it, once.
    announced = db.Column(db.String(16), nullable=False, default="offline", server_default="offline")
    announced_at = db.Column(db.DateTime)  # since when `announced` holds (offline long enough: work goes back)
    # Round robin: routing gives the next conversation to the agent who got one longest ago.
    last_assigned_at = db.Column(db.DateTime)
    # Open conversations this agent may hold; None: their site's cap.
    cap = db.Column(db.Integer)

    user = relationship("User", lazy="joined")

    __table_args__ = (
        CheckConstraint("choice IN ('online', 'away')", name="choice"),
        CheckConstraint("announced IN ('online', 'away', 'offline')", name="announced"),
        CheckConstraint("cap IS NULL OR cap >= 1", name="cap"),
    )


class Label(Model):
    """A label agents put on conversations; admins keep the list."""

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(40), nullable=False, unique=True)
    colour = db.Column(db.String(7), nullable=False, default="#6b7280")  # "#rrggbb"
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    def to_dict(self) -> dict:
        """The LABEL shape of the protocol."""
        return {"id": self.id, "name": self.name, "colour": self.colour}


class ConversationLabel(Model):
    """A label on a conversation."""

    conversation_id = db.Column(db.Integer, db.ForeignKey("conversation.id", ondelete="CASCADE"), primary_key=True)
    label_id = db.Column(db.Integer, db.ForeignKey("label.id", ondelete="CASCADE"), primary_key=True)
    added_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    added_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    label = relationship("Label", lazy="joined")

    __table_args__ = (Index("ix_conversation_label_label_id", "label_id"),)


class CannedResponse(Model):
    """A saved reply agents insert into the composer."""

    id = db.Column(db.Integer, primary_key=True)
    shortcut = db.Column(db.String(32), nullable=False, unique=True)
    body = db.Column(db.Text, nullable=False)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class Attachment(Model):
    """A picture or file uploaded into a room: unsent (message_id None) until a `send` names it."""

    id = db.Column(db.Integer, primary_key=True)
    message_id = db.Column(db.Integer, db.ForeignKey("message.id", ondelete="CASCADE"))
    uploader_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    room_id = db.Column(db.Integer, db.ForeignKey("room.id", ondelete="CASCADE"), nullable=False)
    # "image" (re-encoded, thumbnailed), "file", "audio" or "video" (stored as sent).
    kind = db.Column(db.String(8), nullable=False, default="image", server_default="image")
    # Sniffed from the bytes (never from the name or the browser's Content-Type).
    mime = db.Column(db.String(128), nullable=False)
    size = db.Column(db.Integer, nullable=False)  # bytes of the stored file (a picture: re-encoded)
    # A picture's dimensions and thumbnail; a file has none, but a PDF may have a preview of its
    # first page (thumb_* then describe it; to_dict calls it preview_*, so no client takes it for a picture).
    width = db.Column(db.Integer)
    height = db.Column(db.Integer)
    thumb_width = db.Column(db.Integer)
    thumb_height = db.Column(db.Integer)
    thumb_mime = db.Column(db.String(32))
    # Random file names under UPLOAD_FOLDER; never derived from what the uploader sent.
    path = db.Column(db.String(128), nullable=False)
    thumb_path = db.Column(db.String(128))
    # The uploader's file name, cleaned: `filename` ASCII (Content-Disposition's fallback),
    # `name` as they wrote it, less paths, control and bidi characters (shown, and the download's name).
    filename = db.Column(db.String(128), nullable=False)
    name = db.Column(db.String(255))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    room = relationship("Room")

    __table_args__ = (
        Index("ix_attachment_message_id", "message_id"),
        Index("ix_attachment_uploader_id", "uploader_id"),  # the storage quota sums them
    )

    @property
    def display_name(self) -> str:
        """The name shown and downloaded (pictures stored before names were kept: the ASCII one)."""
        return self.name or self.filename

    def to_dict(self) -> dict:
        """The ATTACHMENT shape of the Socket.IO contract: a picture's fields, or a file's."""
        common = {"id": self.id, "kind": self.kind, "url": f"/uploads/{self.id}/full", "mime": self.mime,
                  "size": self.size, "name": self.display_name, "filename": self.filename}
        if self.kind != "image":
            if self.thumb_path is None:
                return common
            return {**common, "preview_url": f"/uploads/{self.id}/preview", "preview_width": self.thumb_width,
                    "preview_height": self.thumb_height}
        return {
            **common,
            "thumb_url": f"/uploads/{self.id}/thumb",
            "width": self.width,
            "height": self.height,
            "thumb_width": self.thumb_width,
            "thumb_height": self.thumb_height,
        }


class MessageMention(Model):
    """An @mention in a message of a user who may enter its room."""

    message_id = db.Column(db.Integer, db.ForeignKey("message.id", ondelete="CASCADE"), primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_message_mention_user_id", "user_id"),)


# How many of the people who gave one emoji to a message its REACTIONS name (all are counted).
REACTION_USERS_SHOWN = 20


class Reaction(Model):
    """One person's emoji on one message: at most once per (message, person, emoji)."""

    id = db.Column(db.Integer, primary_key=True)
    message_id = db.Column(db.Integer, db.ForeignKey("message.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    emoji = db.Column(db.String(32), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    user = relationship("User", lazy="joined")

    __table_args__ = (
        # The database itself makes a retried reaction one reaction (services/reactions.py).
        UniqueConstraint("message_id", "user_id", "emoji"),
        Index("ix_reaction_user_id", "user_id"),
    )


OUTBOX_STATES = ("pending", "sending", "sent", "failed")


class RoomExport(Model):
    """A download of a room's whole history (services/room_export.py), made in the background.

    Made by the outbox's workers (kind "room_export"): `done` of `total` messages written so far,
    then the zip at `path` (under EXPORT_FOLDER, outside the web root), which only the room's
    moderators download.
    """

    id = db.Column(db.Integer, primary_key=True)
    room_id = db.Column(db.Integer, db.ForeignKey("room.id", ondelete="CASCADE"), nullable=False)
    requested_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    state = db.Column(db.String(16), nullable=False, default="queued", server_default="queued")
    done = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    total = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    # The zip's name in EXPORT_FOLDER (random), once made; its size in bytes.
    path = db.Column(db.String(80))
    size = db.Column(db.Integer)
    error = db.Column(db.Text)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    finished_at = db.Column(db.DateTime)

    room = relationship("Room")
    requested_by = relationship("User", lazy="joined")

    __table_args__ = (
        CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="state"),
        Index("ix_room_export_room_id_id", "room_id", "id"),
    )

    def to_dict(self) -> dict:
        """The EXPORT shape: how far it is, and where to download it once done."""
        return {
            "id": self.id,
            "room": self.room.slug,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "size": self.size,
            "requested_by": self.requested_by.to_dict() if self.requested_by else None,
            "created_at": isoformat_utc(self.created_at),
            "finished_at": isoformat_utc(self.finished_at) if self.finished_at else None,
        }


class OutboxJob(Model):
    """Something that leaves the server (an e-mail, a webhook call), stored with the change that caused it.

    Written in the transaction of that change and sent afterwards by a worker (services/outbox.py):
    a worker takes a job by setting its lease, so no two send it at once, and a job whose worker
    died is taken again once its lease has run out. event_id stays the same on every try: the
    receiver drops a repeat by it (Message-ID, the webhook's event id).
    """

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(40), nullable=False)
    payload = db.Column(db.JSON, nullable=False, default=dict)
    event_id = db.Column(db.String(32), nullable=False, unique=True)
    state = db.Column(db.String(16), nullable=False, default="pending", server_default="pending")
    # Tries so far (the one running counts); past the kind's most, the job fails.
    attempts = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    # Not before: a delay asked for (a batch of replies), or the backoff after a failed try.
    run_after = db.Column(db.DateTime, nullable=False, default=utcnow)
    # While state is "sending": who holds it and until when; past it, another worker takes it again.
    lease_until = db.Column(db.DateTime)
    lease_token = db.Column(db.String(32))
    # One waiting job does the work of several changes (replies within a few minutes make one
    # e-mail): unique while the job waits, cleared when a worker takes it.
    coalesce_key = db.Column(db.String(120), unique=True)
    # What it is for, to list one target's jobs ("webhook:12", "visitor:7").
    subject = db.Column(db.String(80))
    last_error = db.Column(db.Text)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    finished_at = db.Column(db.DateTime)

    __table_args__ = (
        CheckConstraint("state IN ('pending', 'sending', 'sent', 'failed')", name="state"),
        # The worker's question: what is due (pending past run_after, or sending past its lease)?
        Index("ix_outbox_job_state_run_after", "state", "run_after"),
        Index("ix_outbox_job_subject", "subject"),
    )

    def to_dict(self) -> dict:
        """What the admins' deliveries page shows of a job (never its payload's secrets)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "event_id": self.event_id,
            "state": self.state,
            "attempts": self.attempts,
            "subject": self.subject,
            "run_after": isoformat_utc(self.run_after),
            "last_error": self.last_error,
            "created_at": isoformat_utc(self.created_at),
            "finished_at": isoformat_utc(self.finished_at) if self.finished_at else None,
        }


class Webhook(Model):
    """A URL told of events (services/webhooks.py): of one site, or of the whole server (site_id None)."""

    id = db.Column(db.Integer, primary_key=True)
    site_id = db.Column(db.Integer, db.ForeignKey("site.id", ondelete="CASCADE"))
    url = db.Column(db.String(2000), nullable=False)
    # Signs every call (HMAC-SHA256); the receiver holds a copy. Shown to admins, rotated by them.
    secret = db.Column(db.String(64), nullable=False)
    events = db.Column(db.JSON, nullable=False, default=list)
    enabled = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())
    disabled_reason = db.Column(db.Text)
    # Deliveries that failed for good one after another; a success starts it again from 0.
    consecutive_failures = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    site = relationship("Site", lazy="joined")
    created_by = relationship("User", lazy="joined")


class WebhookDelivery(Model):
    """One try of one webhook call: what the receiver answered, and how long it took."""

    id = db.Column(db.Integer, primary_key=True)
    webhook_id = db.Column(db.Integer, db.ForeignKey("webhook.id", ondelete="CASCADE"), nullable=False)
    job_id = db.Column(db.Integer, db.ForeignKey("outbox_job.id", ondelete="SET NULL"))
    event_id = db.Column(db.String(32), nullable=False)
    event = db.Column(db.String(40), nullable=False)
    attempt = db.Column(db.Integer, nullable=False)
    ok = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    status_code = db.Column(db.Integer)  # None: no answer (refused, timed out, an address not allowed)
    duration_ms = db.Column(db.Integer, nullable=False, default=0)
    error = db.Column(db.Text)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    job = relationship("OutboxJob")

    __table_args__ = (Index("ix_webhook_delivery_webhook_id_id", "webhook_id", "id"),)


API_SCOPES = ("read", "write", "support")


class ApiToken(Model):
    """A personal access token for the API (/api/v1): its owner acts through it, within its scopes.

    Only the SHA-256 of the secret is stored (the secret is 256 random bits, so a slow hash would
    add nothing); `prefix`, its first characters, tells tokens apart in lists.
    """

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(80), nullable=False)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    prefix = db.Column(db.String(16), nullable=False)
    scopes = db.Column(db.JSON, nullable=False, default=list)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    expires_at = db.Column(db.DateTime)  # None: never
    # Written at most once a minute (services/api_tokens.py), not on every request.
    last_used_at = db.Column(db.DateTime)
    revoked_at = db.Column(db.DateTime)

    user = relationship("User", foreign_keys=[user_id], lazy="joined")

    def is_expired(self, now: datetime | None = None) -> bool:
        """Whether its expiry has passed."""
        return self.expires_at is not None and self.expires_at <= (now or utcnow())

    def to_dict(self) -> dict:
        """What its owner sees of a token (never the secret, nor its hash)."""
        def moment(value: datetime | None) -> str | None:
            return isoformat_utc(value) if value is not None else None

        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "scopes": list(self.scopes or []),
            "created_at": moment(self.created_at),
            "expires_at": moment(self.expires_at),
            "last_used_at": moment(self.last_used_at),
            "revoked_at": moment(self.revoked_at),
        }


# A poll's options, and how long its question and each option may be (services/polls.py).
POLL_OPTIONS_MIN = 2
POLL_OPTIONS_MAX = 10


class Poll(Model):
    """A moderator's question with options, carried by one message of the room; closed by hand or at closes_at."""

    id = db.Column(db.Integer, primary_key=True)
    message_id = db.Column(db.Integer, db.ForeignKey("message.id", ondelete="CASCADE"), nullable=False, unique=True)
    room_id = db.Column(db.Integer, db.ForeignKey("room.id", ondelete="CASCADE"), nullable=False)
    question = db.Column(db.Text, nullable=False)
    multiple = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    anonymous = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    # Students see no counts until it closes (its moderators always do).
    hidden_until_closed = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    closes_at = db.Column(db.DateTime)
    closed_at = db.Column(db.DateTime)
    closed_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    options = relationship("PollOption", lazy="selectin", order_by="PollOption.position", viewonly=True)
    vote_rows = relationship("PollVote", lazy="selectin", order_by="PollVote.id", viewonly=True)

    __table_args__ = (Index("ix_poll_room_id", "room_id"),)

    def is_closed(self, now: datetime | None = None) -> bool:
        """Closed by a moderator, or past its time limit (checked whenever asked: no job closes it)."""
        moment = now or utcnow()
        return self.closed_at is not None or (self.closes_at is not None and self.closes_at <= moment)

    def results(self) -> list[dict]:
        """Each option's id, text and vote count, in order."""
        counts: dict[int, int] = {}
        for vote in self.vote_rows:
            counts[vote.option_id] = counts.get(vote.option_id, 0) + 1
        return [{"id": option.id, "text": option.text, "count": counts.get(option.id, 0)} for option in self.options]

    def to_dict(self, *, with_counts: bool | None = None) -> dict:
        """The POLL shape (docs/protocol.md): counts and `voters` only when with_counts (default: when all may see
        them); never a voter's id or name."""
        closed = self.is_closed()
        shown = (closed or not self.hidden_until_closed) if with_counts is None else with_counts
        options = self.results()
        data = {
            "id": self.id,
            "question": self.question,
            "multiple": bool(self.multiple),
            "anonymous": bool(self.anonymous),
            "hidden_until_closed": bool(self.hidden_until_closed),
            "closes_at": isoformat_utc(self.closes_at) if self.closes_at else None,
            "closed": closed,
            "closed_at": isoformat_utc(self.closed_at or self.closes_at) if closed else None,
            "results_shown": shown,
            "options": [
                {"id": option["id"], "text": option["text"], **({"count": option["count"]} if shown else {})}
                for option in options
            ],
        }
        if shown:
            data["voters"] = len({vote.user_id for vote in self.vote_rows})
        return data


class PollOption(Model):
    """One answer a poll offers, at its position (0 first)."""

    id = db.Column(db.Integer, primary_key=True)
    poll_id = db.Column(db.Integer, db.ForeignKey("poll.id", ondelete="CASCADE"), nullable=False)
    position = db.Column(db.Integer, nullable=False)
    text = db.Column(db.String(200), nullable=False)

    __table_args__ = (UniqueConstraint("poll_id", "position"),)


class PollVote(Model):
    """One person's choice of one option: at most once per (poll, person, option)."""

    id = db.Column(db.Integer, primary_key=True)
    poll_id = db.Column(db.Integer, db.ForeignKey("poll.id", ondelete="CASCADE"), nullable=False)
    option_id = db.Column(db.Integer, db.ForeignKey("poll_option.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    user = relationship("User", lazy="joined")

    __table_args__ = (
        # The database itself makes a retried vote one vote (services/polls.py).
        UniqueConstraint("poll_id", "user_id", "option_id"),
        Index("ix_poll_vote_user_id", "user_id"),
    )


class Acknowledgement(Model):
    """A student's "I have read this" of a pinned announcement that asks for it: once per (message, person)."""

    id = db.Column(db.Integer, primary_key=True)
    message_id = db.Column(db.Integer, db.ForeignKey("message.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    __table_args__ = (
        # The database itself makes a retried acknowledgement one acknowledgement.
        UniqueConstraint("message_id", "user_id"),
        Index("ix_acknowledgement_user_id", "user_id"),
    )


class AckReminder(Model):
    """A moderator reminded those who had not acknowledged an announcement (the latest one limits the next)."""

    id = db.Column(db.Integer, primary_key=True)
    message_id = db.Column(db.Integer, db.ForeignKey("message.id", ondelete="CASCADE"), nullable=False)
    sent_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    reminded = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    __table_args__ = (Index("ix_ack_reminder_message_id_id", "message_id", "id"),)


class AttendanceInterval(Model):
    """A stretch of time a member had the class room open (services/attendance.py): from their first
    socket's join to their last socket's leave; ended_at None while they are there (or their process died)."""

    id = db.Column(db.Integer, primary_key=True)
    room_id = db.Column(db.Integer, db.ForeignKey("room.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    started_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    ended_at = db.Column(db.DateTime)

    __table_args__ = (Index("ix_attendance_interval_room_id_started_at", "room_id", "started_at"),)


class ClassLesson(Model):
    """A class's weekly lesson (services/attendance.py): on weekday (0 Monday) at start_minute after midnight,
    in the server's time zone, for duration_minutes; its attendance page offers its recent occurrences."""

    id = db.Column(db.Integer, primary_key=True)
    room_id = db.Column(db.Integer, db.ForeignKey("room.id", ondelete="CASCADE"), nullable=False)
    weekday = db.Column(db.Integer, nullable=False)
    start_minute = db.Column(db.Integer, nullable=False)
    duration_minutes = db.Column(db.Integer, nullable=False)

    __table_args__ = (Index("ix_class_lesson_room_id", "room_id"),)


# Homework (services/homework.py): how long an assignment's title, a hand-in and a teacher's comment may be.
ASSIGNMENT_TITLE_MAX = 200
HANDIN_TEXT_MAX = 20000
FEEDBACK_COMMENT_MAX = 2000
FEEDBACK_MARK_MAX = 20


class Assignment(Model):
    """A teacher's homework in a class, carried by one message of the room; due at due_at (UTC)."""

    id = db.Column(db.Integer, primary_key=True)
    message_id = db.Column(db.Integer, db.ForeignKey("message.id", ondelete="CASCADE"), nullable=False, unique=True)
    room_id = db.Column(db.Integer, db.ForeignKey("room.id", ondelete="CASCADE"), nullable=False)
    title = db.Column(db.String(ASSIGNMENT_TITLE_MAX), nullable=False)
    instructions = db.Column(db.Text, nullable=False, default="", server_default="")
    due_at = db.Column(db.DateTime, nullable=False)
    # After due_at: a hand-in is taken and marked late, or (False) refused.
    allow_late = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())
    # The last "remind those who have not handed in" (at most one per REMIND_INTERVAL).
    reminded_at = db.Column(db.DateTime)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    __table_args__ = (Index("ix_assignment_room_id", "room_id"),)

    def is_due(self, now: datetime | None = None) -> bool:
        """Whether its due time has passed."""
        return self.due_at <= (now or utcnow())

    def to_dict(self) -> dict:
        """The ASSIGNMENT shape (docs/protocol.md): what every member of the class may see."""
        return {
            "id": self.id,
            "title": self.title,
            "due_at": isoformat_utc(self.due_at),
            "allow_late": bool(self.allow_late),
        }


class HandIn(Model):
    """One student's hand-in of one assignment (replaced in place), with the teacher's comment for that student."""

    id = db.Column(db.Integer, primary_key=True)
    assignment_id = db.Column(db.Integer, db.ForeignKey("assignment.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    text = db.Column(db.Text, nullable=False, default="", server_default="")
    submitted_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    late = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    comment = db.Column(db.Text)
    mark = db.Column(db.String(FEEDBACK_MARK_MAX))
    commented_at = db.Column(db.DateTime)
    commented_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))

    user = relationship("User", foreign_keys=[user_id], lazy="joined")
    file_rows = relationship("HandInFile", lazy="selectin", order_by="HandInFile.id", viewonly=True)

    __table_args__ = (
        # One hand-in per (assignment, student): a replacement or a retry updates this row.
        UniqueConstraint("assignment_id", "user_id"),
        Index("ix_hand_in_user_id", "user_id"),
    )


class HandInFile(Model):
    """An upload (services/uploads.py) that a student handed in: it stays unsent, kept by this row."""

    id = db.Column(db.Integer, primary_key=True)
    hand_in_id = db.Column(db.Integer, db.ForeignKey("hand_in.id", ondelete="CASCADE"), nullable=False)
    attachment_id = db.Column(db.Integer, db.ForeignKey("attachment.id", ondelete="CASCADE"), nullable=False,
                              unique=True)

    attachment = relationship("Attachment", lazy="joined")
