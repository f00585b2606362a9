"""Languages people and sites choose, and an account's own settings (name, language, e-mail and which e-mails)."""
from __future__ import annotations

from flask_babel import gettext as _

from ..extensions import db
from ..models import Site, User, VisitorProfile
from . import subscriptions
from .accounts import check_display_name
from .errors import ServiceError
from .text import check_email

# Locale ids as Babel names them, and the <html lang> tag (BCP 47) of each.
LANGUAGES = {"en": "en", "zh_CN": "zh-CN"}
LANGUAGE_NAMES = {"en": "English", "zh_CN": "简体中文"}
# Host-page lang tags (lowercase) that mean Simplified Chinese; any other "zh-…" (zh-TW, zh-Hant) is not.
SIMPLIFIED_CHINESE_TAGS = ("zh", "zh-cn", "zh-hans", "zh-sg", "zh-hans-cn", "zh-hans-sg", "zh-my", "zh-hans-my")
MAX_TAG_LENGTH = 35


def check_language(language: object) -> str | None:
    """Return a supported language id, None for "automatic" (blank or None), or raise invalid."""
    if language is None or language == "":
        return None
    if isinstance(language, str) and language in LANGUAGES:
        return language
    raise ServiceError(
        "invalid",
        _("%(language)s is not a language chatapp speaks; choose one of: %(choices)s.",
          language=repr(language)[:40], choices=", ".join(LANGUAGE_NAMES.values())),
        field="language",
    )


def language_from_tag(tag: object) -> str | None:
    """The language id of a BCP 47 tag like a page's <html lang> ("zh-CN" -> "zh_CN"), or None if not spoken."""
    if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG_LENGTH:
        return None
    clean = tag.strip().replace("_", "-").lower()
    if clean in SIMPLIFIED_CHINESE_TAGS:
        return "zh_CN"
    if clean == "en" or clean.startswith("en-"):
        return "en"
    return None


def _check_account(user: User) -> None:
    if user.is_visitor:
        raise ServiceError("forbidden", _("A website visitor has no account settings."))


def set_language(*, user: User, language: object) -> User:
    """Save an account's interface language (None: follow the browser); visitors have no setting."""
    _check_account(user)
    user.language = check_language(language)
    db.session.commit()
    return user


def mail_topics(user: User) -> list[str]:
    """The kinds of e-mail an account can choose in its settings (the desk's notices are for staff)."""
    return [topic for topic in subscriptions.TOPICS if topic != "support" and (topic != "desk" or user.is_staff)]


def update_settings(
    *, user: User, display_name: object, language: object, email: object = None,
    mail: dict[str, bool] | None = None, share_reads: bool | None = None,
) -> User:
    """Change an account's name, language, e-mail address and e-mail choices; nothing changes if one is refused.

    `mail`: topic -> wanted, for the topics of mail_topics(user); others are left alone.
    `share_reads`: whether others see when this person has read (services/receipts.py).
    """
    _check_account(user)
    shown = check_display_name(display_name)
    user.language = check_language(language)
    if email is not None:
        try:
            user.email = check_email(email)
        except ServiceError as refused:
            raise ServiceError(refused.code, refused.message, field="email") from None
    for topic, wanted in (mail or {}).items():
        if topic in mail_topics(user):
            subscriptions.set_wanted(user=user, topic=topic, wanted=wanted)
    if share_reads is not None:
        user.share_reads = bool(share_reads)
    user.display_name = shown
    db.session.commit()
    return user


def widget_language(*, site: Site, host_tag: object) -> str | None:
    """The widget's language: the site's setting, else the host page's lang tag; None: the visitor's browser."""
    return site.language if site.language in LANGUAGES else language_from_tag(host_tag)


def visitor_language(visitor_id: int) -> str | None:
    """The language of a visitor's widget socket: its site's setting (None: the visitor's browser)."""
    language = db.session.scalar(
        db.select(Site.language).join(VisitorProfile, VisitorProfile.site_id == Site.id)
        .where(VisitorProfile.user_id == visitor_id)
    )
    return language if language in LANGUAGES else None
