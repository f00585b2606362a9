"""Which e-mails a person gets: one switch per topic, and the one-click unsubscribe link of each e-mail.

A topic is a column of User (mail_desk, mail_support, mail_direct, mail_mentions, mail_announcements).
Every e-mail of a topic carries a link (and a List-Unsubscribe header, RFC 8058) holding a
signed token that names the person and the topic. The token does not expire: a link in an old
e-mail must still stop the e-mails. It can only turn that person's topic off or on again, so a
forwarded e-mail gives nothing else away.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from ..extensions import db
from ..models import User
from .errors import ServiceError

SALT = "mail-unsubscribe"
# topic -> what the person reads on the unsubscribe page and in /auth/account.
TOPICS = {
    "support": _l("replies and transcripts of your support conversation"),
    "desk": _l("messages visitors leave while no agent is online"),
    "direct": _l("direct messages you have not read"),
    "mentions": _l("@mentions you have not read"),
    "announcements": _l("announcements of your classes"),
}


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _column(topic: str) -> str:
    if topic not in TOPICS:
        raise ValueError(f"unknown e-mail topic {topic!r}")
    return f"mail_{topic}"


def wants(user: User, topic: str) -> bool:
    """Whether user (active) has topic on; the caller knows the address (a visitor's is on their profile)."""
    return user.is_active and bool(getattr(user, _column(topic)))


def set_wanted(*, user: User, topic: str, wanted: bool) -> None:
    """Turn a topic on or off (uncommitted)."""
    setattr(user, _column(topic), bool(wanted))


def token(user: User, topic: str) -> str:
    """The unsubscribe token of user's e-mails of topic."""
    _column(topic)
    return _serializer().dumps({"user": user.id, "topic": topic})


def unsubscribe_url(user: User, topic: str, base: str) -> str:
    """The link that turns topic off for user; `base` is the public address (services/mail.public_url)."""
    return f"{base}/mail/unsubscribe/{token(user, topic)}"


def unsubscribe_headers(url: str) -> dict[str, str]:
    """List-Unsubscribe and List-Unsubscribe-Post (RFC 8058): mail programs offer one-click unsubscribe."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def from_token(value: object) -> tuple[User, str]:
    """The person and topic a token names, or not_found (a mangled link, or a deleted account)."""
    refused = ServiceError("not_found", _("This unsubscribe link is not valid. Copy the whole link from the e-mail."))
    if not isinstance(value, str) or not 1 <= len(value) <= 512:
        raise refused
    try:
        claims = _serializer().loads(value)
    except BadSignature:
        raise refused from None
    if not isinstance(claims, dict) or claims.get("topic") not in TOPICS or not isinstance(claims.get("user"), int):
        raise refused
    user = db.session.get(User, claims["user"])
    if user is None:
        raise refused
    return user, claims["topic"]


def change_by_token(value: object, *, wanted: bool) -> tuple[User, str]:
    """Turn the token's topic off (or on again) and commit."""
    user, topic = from_token(value)
    set_wanted(user=user, topic=topic, wanted=wanted)
    db.session.commit()
    return user, topic
