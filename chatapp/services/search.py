"""Searching one room's messages: SQLite FTS5 where it is there, a plain ILIKE elsewhere."""
from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError

from ..extensions import db
from ..models import Message, Room, User
from .errors import ServiceError
from .messages import check_limit, visible_messages
from .ratelimit import check_rate
from .rooms import ensure_can_enter

MAX_QUERY_LENGTH = 200
DEFAULT_RESULTS = 20
MAX_RESULTS = 50
# What makes a query FTS5 syntax rather than plain words: quotes, prefix stars, grouping,
# column filters, and the upper-case operators. Plain words are each matched as a prefix.
FTS_SYNTAX_RE = re.compile(r'["*()^:+]|\b(?:AND|OR|NOT|NEAR)\b')
# FTS5's unicode61 tokenizer reads a run of Chinese characters as one word, so "世界" would
# not find "你好世界": such queries use a substring match instead.
CJK_RE = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
_FTS_TABLE = sa.table("message_fts", sa.column("rowid"))


@dataclass(frozen=True)
class SearchResult:
    """Matching messages, newest first, and whether more matched than were returned."""

    messages: list[Message]
    more: bool


def check_query(query: object) -> str:
    """Return the trimmed search text or raise invalid / too_large."""
    if not isinstance(query, str) or not query.strip():
        raise ServiceError("invalid", _("Type something to search for."))
    text = " ".join(query.split())
    if len(text) > MAX_QUERY_LENGTH:
        raise ServiceError("too_large", _("A search can be at most %(max)d characters.", max=MAX_QUERY_LENGTH),
                           limit=MAX_QUERY_LENGTH)
    return text


def _words(text: str) -> list[str]:
    return [word for word in text.split() if any(ch.isalnum() for ch in word)]


def has_words(text: str) -> bool:
    """Whether text holds a word a message search can look for (not only punctuation, like "@")."""
    return bool(_words(text))


def fts_query(text: str) -> str:
    """The FTS5 query for what a person typed: their own syntax if they used it, else every word as a prefix."""
    if FTS_SYNTAX_RE.search(text):
        return text
    words = _words(text)
    if not words:
        raise ServiceError("invalid", _("Type a word to search for."))
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


def _full_text(query, text: str):
    match = sa.text("message_fts MATCH :fts_query").bindparams(fts_query=fts_query(text))
    return query.join(_FTS_TABLE, _FTS_TABLE.c.rowid == Message.id).where(match)


def like_pattern(text: str) -> str:
    """An ILIKE pattern (escape character backslash) matching text anywhere, its own % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _substring(query, text: str):
    words = _words(text) or [text]
    for word in words:
        query = query.where(Message.body.ilike(like_pattern(word), escape="\\"))
    return query


def matching_messages(query, text: str):
    """Narrow a select over Message to the messages matching text: the one rule of what a search finds.

    FTS5 on SQLite (not for Chinese, which its tokenizer does not split), a substring match elsewhere.
    Running it may raise OperationalError for a query FTS5 cannot parse: see not_understood.
    """
    if uses_fts() and not CJK_RE.search(text):
        return _full_text(query, text)
    return _substring(query, text)


def not_understood(error: OperationalError) -> ServiceError:
    """Roll back after FTS5 refused a query; the invalid error that says why and what to do."""
    db.session.rollback()
    reason = str(error.orig) if error.orig is not None else "syntax error"
    return ServiceError(
        "invalid",
        _("That search could not be understood (%(reason)s). Put words in double quotes to search for them as "
          "they are.", reason=reason[:120]),
    )


def uses_fts() -> bool:
    """Whether the database has the FTS5 index (SQLite); PostgreSQL falls back to ILIKE."""
    return db.session.get_bind().dialect.name == "sqlite"


def search_messages(*, user: User, room: Room, query: object, limit: object = None) -> SearchResult:
    """The messages of room that user may read and that match query, newest first.

    Plain words match as prefixes, all of them; FTS5 syntax ("exact phrase", OR, NOT,
    prefix*) is honoured, and a query FTS5 cannot parse is `invalid`, never a server error.
    """
    ensure_can_enter(user=user, room=room)
    text = check_query(query)
    size = check_limit(limit, default=DEFAULT_RESULTS, maximum=MAX_RESULTS)
    check_rate(action="search", key=user.id)
    base = matching_messages(visible_messages(user=user, room=room).where(Message.deleted_at.is_(None)), text)
    try:
        rows = list(db.session.scalars(base.order_by(Message.id.desc()).limit(size + 1)))
    except OperationalError as error:
        raise not_understood(error) from None
    return SearchResult(messages=rows[:size], more=len(rows) > size)
