"""Tables and their small domain methods."""
from __future__ import annotations

from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Index, UniqueConstraint

from .extensions import db

# OWASP's minimum for argon2id: 19 MiB of memory, 2 iterations, 1 degree of parallelism.
password_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

ROLES = ("admin", "staff", "member")
ROOM_KINDS = ("public", "private")


def utcnow() -> datetime:
    """The current time in UTC, without tzinfo (as the database stores it)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def isoformat_utc(moment: datetime) -> str:
    """Format a naive UTC datetime as 2026-11-29T08:15:30.123Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class User(UserMixin, db.Model):
    """An account: admin, staff or member."""

    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(32), nullable=False, unique=True)
    display_name = db.Column(db.String(64), nullable=False)
    password_hash = db.Column(db.String(255), nullable=False)
    role = db.Column(db.String(16), nullable=False, default="member")
    is_active_account = db.Column(db.Boolean, nullable=False, default=True)
    # Bumped on logout and deactivation so that every session issued before is refused.
    session_epoch = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    __table_args__ = (CheckConstraint("role IN ('admin', 'staff', 'member')", name="role"),)

    def set_password(self, password: str) -> None:
        """Store an argon2id hash of password."""
        self.password_hash = password_hasher.hash(password)

    def check_password(self, password: str) -> bool:
        """Whether password matches the stored hash (rehashing if the parameters changed)."""
        try:
            password_hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if password_hasher.check_needs_rehash(self.password_hash):
            self.set_password(password)
        return True

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return bool(self.is_active_account)

    @property
    def is_staff(self) -> bool:
        """Admins and staff both count as staff."""
        return self.role in ("admin", "staff")

    def get_id(self) -> str:
        """The session id carries the epoch, so bumping it ends old sessions."""
        return f"{self.id}:{self.session_epoch}"

    def to_dict(self) -> dict:
        """The USER shape of the Socket.IO contract."""
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
        }


class Room(db.Model):
    """A place where people talk: public to every account, or private to its members."""

    id = db.Column(db.Integer, primary_key=True)
    slug = db.Column(db.String(64), nullable=False, unique=True)
    name = db.Column(db.String(80), nullable=False)
    kind = db.Column(db.String(16), nullable=False, default="public")
    join_code = db.Column(db.String(16), unique=True)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    __table_args__ = (CheckConstraint("kind IN ('public', 'private')", name="kind"),)

    @property
    def is_private(self) -> bool:
        """Whether only members may enter."""
        return self.kind == "private"

    def to_dict(self) -> dict:
        """The ROOM shape of the Socket.IO contract."""
        return {"slug": self.slug, "name": self.name, "kind": self.kind}


class Membership(db.Model):
    """A user's place in a room."""

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    room_id = db.Column(db.Integer, db.ForeignKey("room.id", ondelete="CASCADE"), nullable=False)
    role = db.Column(db.String(16), nullable=False, default="member")
    joined_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    user = db.relationship("User", lazy="joined")
    room = db.relationship("Room")

    __table_args__ = (
        UniqueConstraint("user_id", "room_id"),
        CheckConstraint("role IN ('owner', 'moderator', 'member')", name="role"),
        Index("ix_membership_room_id", "room_id"),
    )


class Message(db.Model):
    """One message; ids increase in the order messages are stored."""

    id = db.Column(db.Integer, primary_key=True)
    room_id = db.Column(db.Integer, db.ForeignKey("room.id", ondelete="CASCADE"), nullable=False)
    sender_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    body = db.Column(db.Text, nullable=False)
    client_id = db.Column(db.String(64))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    sender = db.relationship("User", lazy="joined")
    room = db.relationship("Room", lazy="joined")

    __table_args__ = (
        # The database itself makes a retried send idempotent, across restarts.
        UniqueConstraint("sender_id", "client_id"),
        # History pages walk one room by id in either direction.
        Index("ix_message_room_id_id", "room_id", "id"),
        # AUTOINCREMENT: an id is never handed out twice, even after the newest row is deleted.
        {"sqlite_autoincrement": True},
    )

    def to_dict(self) -> dict:
        """The MESSAGE shape of the Socket.IO contract."""
        return {
            "id": self.id,
            "room": self.room.slug,
            "sender": self.sender.to_dict(),
            "body": self.body,
            "client_id": self.client_id,
            "created_at": isoformat_utc(self.created_at),
        }
