"""Website visitors: signed visitor tokens, the widget session, contact details."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import VISITOR_ROLE, Conversation, Site, User, VisitorProfile, utcnow
from . import hours as hours_service
from . import sites as site_service
from . import support as support_service
from .errors import ServiceError
from .preferences import LANGUAGES
from .text import check_email, clean_name

TOKEN_SALT = "visitor-token"
# A second, weaker token the host page may keep: it only asks "how many unread replies?".
NOTIFY_SALT = "visitor-notify"
# The link back to the chat in an e-mail of replies (services/mail_jobs.py).
LINK_SALT = "visitor-link"
TOKEN_MAX_AGE_S = 180 * 24 * 3600  # a token is renewed on every visit; this is the longest absence
MAX_PAGE_URL_LENGTH = 2000
MAX_USER_AGENT_LENGTH = 400
MAX_NAME_LENGTH = 64


@dataclass(frozen=True)
class VisitorSession:
    """What the widget needs after POST /widget/api/session."""

    visitor: User
    profile: VisitorProfile
    site: Site
    conversation: Conversation
    visitor_token: str
    notify_token: str
    hours: dict  # HOURS to a visitor (desk_for_visitor)


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def issue_visitor_token(*, visitor: User, site: Site) -> str:
    """A signed token naming the visitor and the site (kept in the widget frame's storage)."""
    return _serializer(TOKEN_SALT).dumps({"visitor": visitor.id, "site": site.id})


def load_visitor(visitor_id: object) -> User | None:
    """The active visitor with this id, or None."""
    if not isinstance(visitor_id, int) or isinstance(visitor_id, bool):
        return None
    user = db.session.get(User, visitor_id)
    if user is None or not user.is_visitor or not user.is_active:
        return None
    return user


def visitor_from_token(*, token: object, site: Site | None = None) -> User:
    """The visitor a token names; raise unauthorized if it is forged, expired, gone or for another site."""
    refused = ServiceError(
        "unauthorized", _("Your chat session is not valid any more; reload the page to start again.")
    )
    if not isinstance(token, str) or not 1 <= len(token) <= 512:
        raise refused
    try:
        claims = _serializer(TOKEN_SALT).loads(token, max_age=TOKEN_MAX_AGE_S)
    except BadSignature:  # also SignatureExpired
        raise refused from None
    if not isinstance(claims, dict):
        raise refused
    visitor = load_visitor(claims.get("visitor"))
    if visitor is None:
        raise refused
    profile = get_profile(visitor)
    if profile is None or profile.site_id != claims.get("site") or (site is not None and site.id != profile.site_id):
        raise refused
    return visitor


def issue_link_token(*, visitor: User, site: Site) -> str:
    """A signed token for the link in an e-mail that opens the visitor's conversation again (expires)."""
    return _serializer(LINK_SALT).dumps({"visitor": visitor.id, "site": site.id})


def visitor_from_link(*, token: object) -> tuple[User, Site]:
    """The visitor and site of an e-mail's link; unauthorized if forged or older than VISITOR_LINK_MAX_AGE_SECONDS."""
    refused = ServiceError(
        "unauthorized", _("This link has expired or is not complete. Open the chat on the website to go on.")
    )
    if not isinstance(token, str) or not 1 <= len(token) <= 512:
        raise refused
    try:
        claims = _serializer(LINK_SALT).loads(token, max_age=int(current_app.config["VISITOR_LINK_MAX_AGE_SECONDS"]))
    except BadSignature:  # also SignatureExpired
        raise refused from None
    visitor = load_visitor(claims.get("visitor")) if isinstance(claims, dict) else None
    profile = get_profile(visitor) if visitor is not None else None
    if visitor is None or profile is None or profile.site_id != claims.get("site"):
        raise refused
    return visitor, profile.site


def get_profile(visitor: User) -> VisitorProfile | None:
    """The visitor's profile."""
    return db.session.scalar(db.select(VisitorProfile).filter_by(user_id=visitor.id))


def issue_notify_token(*, conversation: Conversation) -> str:
    """A token that reveals only the unread count of one conversation (the loader polls with it)."""
    return _serializer(NOTIFY_SALT).dumps({"conversation": conversation.id})


def conversation_from_notify_token(*, token: object) -> Conversation:
    """The conversation a notify token names, or unauthorized."""
    refused = ServiceError("unauthorized", _("Unknown chat."))
    if not isinstance(token, str) or not 1 <= len(token) <= 512:
        raise refused
    try:
        claims = _serializer(NOTIFY_SALT).loads(token, max_age=TOKEN_MAX_AGE_S)
    except BadSignature:
        raise refused from None
    conversation = db.session.get(Conversation, claims.get("conversation")) if isinstance(claims, dict) else None
    if conversation is None or not isinstance(claims.get("conversation"), int):
        raise refused
    return conversation


def check_page_url(page_url: object) -> str | None:
    """An http(s) URL of the host page, cut to length; anything else is dropped (it is only shown)."""
    if not isinstance(page_url, str):
        return None
    text = page_url.strip()[:MAX_PAGE_URL_LENGTH]
    try:
        scheme = urlsplit(text).scheme
    except ValueError:
        return None
    return text if scheme in ("http", "https") else None


def check_visitor_name(name: object) -> str | None:
    """Return a clean name (None when blank), or raise invalid."""
    if name is None or (isinstance(name, str) and not name.strip()):
        return None
    return clean_name(name, what=_("name"), max_length=MAX_NAME_LENGTH)


def create_visitor(*, site: Site, external_id: str | None = None) -> User:
    """A new visitor of site (uncommitted): a User row no one can log in to, with its profile."""
    tag = secrets.token_hex(6)
    # Not an argon2 hash, so no password ever matches it; and no argon2 work per visitor.
    visitor = User(username=f"visitor-{tag}", display_name=f"Visitor {tag[:4]}", role=VISITOR_ROLE,
                   password_hash=f"!visitor:{secrets.token_hex(16)}")
    db.session.add(visitor)
    db.session.flush()
    db.session.add(VisitorProfile(user_id=visitor.id, site_id=site.id, external_id=external_id))
    db.session.flush()
    return visitor


def start_session(
    *, site_key: object, visitor_token: object = None, page_url: object = None, user_agent: object = None,
    name: object = None, email: object = None, identity: object = None, origin: str | None = None,
    own_origin: str = "", language: str | None = None,
) -> VisitorSession:
    """Start or resume a visitor's chat on a site: who they are, their conversation, a fresh token.

    A valid token resumes its visitor; no token starts a new one. A host page may vouch for
    its own user with `identity` = {user_id, hmac}: a verified identity always gets that
    user's own visitor (so their conversation follows them between devices), and a visitor
    who had a verified identity is never resumed on a page that does not vouch for it (a
    shared computer after logout).
    """
    arguments: dict[str, Any] = dict(site_key=site_key, visitor_token=visitor_token, page_url=page_url,
                                     user_agent=user_agent, name=name, email=email, identity=identity, origin=origin,
                                     own_origin=own_origin, language=language)
    try:
        return _start_session(**arguments)
    except IntegrityError:
        # Two tabs of one visitor raced to create the same identity or conversation:
        # the database kept one; the second attempt finds it.
        db.session.rollback()
        return _start_session(**arguments)


def _start_session(
    *, site_key: object, visitor_token: object, page_url: object, user_agent: object, name: object,
    email: object, identity: object, origin: str | None, own_origin: str, language: str | None,
) -> VisitorSession:
    site = site_service.get_site_by_key(site_key)
    site_service.ensure_origin_allowed(site=site, origin=origin, own_origin=own_origin)
    contact_name = check_visitor_name(name)
    contact_email = check_email(email)
    current = visitor_from_token(token=visitor_token, site=site) if visitor_token is not None else None
    external_id = None
    if identity is not None:
        if not isinstance(identity, dict) or set(identity) - {"user_id", "hmac"}:
            raise ServiceError("invalid", _("identity is an object with user_id and hmac."))
        external_id = site_service.verify_identity(
            site=site, user_id=identity.get("user_id"), signature=identity.get("hmac")
        )
    visitor = _choose_visitor(site=site, current=current, external_id=external_id)
    profile = get_profile(visitor)
    assert profile is not None
    profile.last_seen_at = utcnow()
    profile.page_url = check_page_url(page_url) or profile.page_url
    if isinstance(user_agent, str) and user_agent.strip():
        profile.user_agent = user_agent.strip()[:MAX_USER_AGENT_LENGTH]
    if contact_name:
        profile.name = contact_name
        visitor.display_name = contact_name
    if contact_email:
        profile.email = contact_email
    if language in LANGUAGES:
        visitor.language = language  # what the widget speaks to them: their e-mails do too
    conversation = support_service.ensure_conversation(visitor=visitor, site=site)  # commits
    if conversation.last_message_at is not None:
        support_service.announce_conversation(conversation, to_visitor=False)  # new contact details, page or browser
    return VisitorSession(
        visitor=visitor, profile=profile, site=site, conversation=conversation,
        visitor_token=issue_visitor_token(visitor=visitor, site=site),
        notify_token=issue_notify_token(conversation=conversation),
        hours=desk_for_visitor(site=site, profile=profile, at=utcnow()),
    )


def _choose_visitor(*, site: Site, current: User | None, external_id: str | None) -> User:
    current_profile = get_profile(current) if current is not None else None
    if external_id is None:
        if current is not None and current_profile is not None and current_profile.external_id is None:
            return current
        return create_visitor(site=site)
    holder = db.session.scalar(db.select(VisitorProfile).filter_by(site_id=site.id, external_id=external_id))
    if holder is not None:
        if not holder.user.is_active:
            raise ServiceError("forbidden", _("This chat is closed."))
        return holder.user
    if current is not None and current_profile is not None and current_profile.external_id is None:
        current_profile.external_id = external_id  # the anonymous visitor signed in: keep their chat
        return current
    return create_visitor(site=site, external_id=external_id)


def desk_for_visitor(*, site: Site, profile: VisitorProfile, at: datetime) -> dict:
    """The desk's hours as a visitor's widget shows them: HOURS, and whether to ask for an e-mail while it is away.

    Outside hours the answer may come after the visitor has left, so the widget offers an e-mail
    field, unless the pre-chat form requires one anyway or the visitor already gave one.
    """
    status = hours_service.desk_status(site, at)
    status["ask_email"] = not status["open"] and not site.prechat_email_required and not profile.email
    return status


def hours_for(*, user: User) -> dict:
    """For a widget visitor's socket: their site's desk hours now; anybody else is forbidden (they have no site)."""
    profile = get_profile(user) if user.is_visitor else None
    if profile is None:
        raise ServiceError("forbidden", _("Only a website visitor's chat asks for the desk's hours."))
    return desk_for_visitor(site=profile.site, profile=profile, at=utcnow())


def pending_replies(*, token: object, origin: str | None, own_origin: str) -> tuple[int, Site]:
    """For the loader's poll: how many replies the visitor has not read, and the site (for CORS)."""
    conversation = conversation_from_notify_token(token=token)
    site_service.ensure_origin_allowed(site=conversation.site, origin=origin, own_origin=own_origin)
    return support_service.unread_for_visitor(conversation=conversation), conversation.site
