"""Personal access tokens for the API, and bot accounts (an admin's accounts for integrations).

A token's secret ("cat_" and 43 URL-safe characters, 256 random bits) is shown once, when it is
made; only its SHA-256 is stored, so a stolen database gives no working token. A token acts for
its owner within its scopes: `read` (GET routes), `write` (posting, joining), `support` (the
desk's conversations, where the owner must be staff as well: the support services check that).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import NamedTuple

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import API_SCOPES, ApiToken, User, utcnow
from . import accounts
from .errors import ServiceError
from .rows import rows_changed
from .text import clean_name

SECRET_PREFIX = "cat_"
SECRET_BYTES = 32
# "cat_" and the first 8 random characters: enough to tell one's tokens apart, useless to guess with.
SHOWN_PREFIX_LENGTH = len(SECRET_PREFIX) + 8
MAX_SECRET_LENGTH = 200
MAX_TOKEN_NAME_LENGTH = 80
# The expiries the pages offer, in days (None: never).
EXPIRY_DAYS = (30, 90, 365, None)
MAX_EXPIRY_DAYS = 3650
# last_used_at is written at most this often: not a write per request.
LAST_USED_PRECISION = timedelta(minutes=1)
SCOPE_NAMES = {"read": _l("read"), "write": _l("write"), "support": _l("support")}


class IssuedToken(NamedTuple):
    """A new token and its secret: the one time anybody sees the secret."""

    token: ApiToken
    secret: str


def hash_secret(secret: str) -> str:
    """The stored form of a secret: its SHA-256, in hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def available_scopes(user: User) -> tuple[str, ...]:
    """The scopes a token of user may carry: support only for staff (the desk's people)."""
    return API_SCOPES if user.is_staff else tuple(scope for scope in API_SCOPES if scope != "support")


def check_scopes(scopes: object, *, user: User) -> list[str]:
    """The scopes, in API_SCOPES order, if each is known and user may have it; else raise invalid or forbidden."""
    if isinstance(scopes, str):
        scopes = [part.strip() for part in scopes.split(",") if part.strip()]
    if not isinstance(scopes, (list, tuple, set)) or not scopes:
        raise ServiceError("invalid", _("Choose at least one scope: %(scopes)s.", scopes=", ".join(API_SCOPES)))
    unknown = [scope for scope in scopes if scope not in API_SCOPES]
    if unknown:
        raise ServiceError("invalid", _("A scope is one of: %(scopes)s.", scopes=", ".join(API_SCOPES)))
    if any(scope not in available_scopes(user) for scope in scopes):
        raise ServiceError("forbidden", _("Only staff accounts can have tokens with the support scope."))
    return [scope for scope in API_SCOPES if scope in scopes]


def _check_expiry(expires_in_days: object) -> timedelta | None:
    if expires_in_days is None:
        return None
    if isinstance(expires_in_days, bool) or not isinstance(expires_in_days, int) or \
            not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise ServiceError(
            "invalid", _("A token expires after 1 to %(max)d days, or never.", max=MAX_EXPIRY_DAYS)
        )
    return timedelta(days=expires_in_days)


def _ensure_can_hold_tokens(user: User) -> None:
    if user.is_visitor:
        raise ServiceError("forbidden", _("A website visitor is not an account; it cannot have access tokens."))
    if not user.is_active:
        raise ServiceError("forbidden", _("This account is deactivated; it cannot have access tokens."))


def create_token(
    *, user: User, name: object, scopes: object, expires_in_days: object, created_by: User | None = None
) -> IssuedToken:
    """A new token of user (made by user, or by an admin for a bot); commits; the secret is in the answer only."""
    _ensure_can_hold_tokens(user)
    clean = clean_name(name, what=_("token name"), max_length=MAX_TOKEN_NAME_LENGTH)
    checked = check_scopes(scopes, user=user)
    lifetime = _check_expiry(expires_in_days)
    secret = SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    now = utcnow()
    token = ApiToken(
        user_id=user.id, name=clean, token_hash=hash_secret(secret), prefix=secret[:SHOWN_PREFIX_LENGTH],
        scopes=checked, created_by_id=(created_by or user).id, created_at=now,
        expires_at=now + lifetime if lifetime else None,
    )
    db.session.add(token)
    db.session.commit()
    return IssuedToken(token=token, secret=secret)


def list_tokens(*, user: User) -> list[ApiToken]:
    """user's tokens, newest first (revoked and expired ones too, marked so)."""
    return list(db.session.scalars(
        db.select(ApiToken).filter_by(user_id=user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ))


def revoke_token(*, actor: User, token_id: object) -> ApiToken:
    """Revoke a token at once: its owner or an admin only; revoking it again changes nothing."""
    is_id = isinstance(token_id, int) and not isinstance(token_id, bool)
    token = db.session.get(ApiToken, token_id) if is_id else None
    if token is None:
        raise ServiceError("not_found", _("There is no such access token."))
    if token.user_id != actor.id and not actor.is_admin:
        raise ServiceError("forbidden", _("Only its owner or an admin can revoke an access token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
    return token


def _find(secret: object) -> tuple[str, ApiToken | None]:
    """What a presented secret is: ("malformed" | "unknown" | "revoked" | "expired" | "inactive" | "ok", its token)."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX) or len(secret) > MAX_SECRET_LENGTH:
        return "malformed", None
    token = db.session.scalar(db.select(ApiToken).filter_by(token_hash=hash_secret(secret)))
    if token is None:
        return "unknown", None
    if token.revoked_at is not None:
        return "revoked", token
    if token.is_expired():
        return "expired", token
    if not token.user.is_active or token.user.is_visitor:
        return "inactive", token
    return "ok", token


def usable_token(secret: object) -> ApiToken | None:
    """The token of a secret that is good now (marked used), else None; says nothing, unlike authenticate.

    For Flask-Login's request loader, which runs before the request's language is known.
    """
    state, token = _find(secret)
    if state != "ok" or token is None:
        return None
    _mark_used(token, utcnow())
    return token


def authenticate(secret: object) -> tuple[User, ApiToken]:
    """The account and token a secret belongs to, or unauthorized saying why (malformed, unknown, revoked, expired).

    Marks the token used (at most once a minute).
    """
    state, token = _find(secret)
    if state == "ok" and token is not None:
        _mark_used(token, utcnow())
        return token.user, token
    if state == "malformed":
        message = _("That is not a chatapp access token: send the header Authorization: Bearer cat_… with the "
                    "whole token.")
    elif state == "revoked":
        message = _("This access token was revoked; make a new one on your account page.")
    elif state == "expired" and token is not None:
        message = _("This access token expired on %(date)s; make a new one on your account page.",
                    date=format_date(token.expires_at))
    elif state == "inactive":
        message = _("The account of this access token is deactivated.")
    else:
        message = _("This access token is not known: check that it was copied whole.")
    raise ServiceError("unauthorized", message)


def _mark_used(token: ApiToken, now) -> None:
    """Record the use, unless it was recorded less than LAST_USED_PRECISION ago (one conditional UPDATE)."""
    if token.last_used_at is not None and token.last_used_at > now - LAST_USED_PRECISION:
        return
    stale = (ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at <= now - LAST_USED_PRECISION)
    if rows_changed(db.update(ApiToken).where(ApiToken.id == token.id, stale).values(last_used_at=now)):
        db.session.commit()
        token.last_used_at = now  # expired by the commit: set, so reading it costs no query
    else:
        db.session.rollback()


def require_scope(token: ApiToken, scope: str) -> None:
    """Raise forbidden unless the token carries scope."""
    assert scope in API_SCOPES, scope
    if scope not in (token.scopes or []):
        raise ServiceError(
            "forbidden", _("This access token lacks the %(scope)s scope; make one that has it.", scope=scope)
        )


# -- bots ----------------------------------------------------------------------------------


def create_bot(*, actor: User | None, username: str, display_name: str | None, role: str = "member") -> User:
    """An admin makes a bot: an account with no password (it never logs in) that acts through its tokens."""
    accounts.ensure_admin(actor)
    if role not in ("member", "staff"):
        raise ServiceError("invalid", _("A bot is a member or a staff account."))
    bot = accounts.new_account(username=username, role=role, display_name=display_name)
    bot.is_bot = True
    bot.password_hash = f"!bot:{secrets.token_hex(16)}"  # no password matches it
    return accounts.save_account(bot)


def list_bots(*, actor: User | None) -> list[User]:
    """Every bot, by username; admins only."""
    accounts.ensure_admin(actor)
    return list(db.session.scalars(db.select(User).filter_by(is_bot=True).order_by(User.username)))


def issue_bot_token(
    *, actor: User | None, bot: User, name: object, scopes: object, expires_in_days: object
) -> IssuedToken:
    """An admin gives a bot a new token (nobody else: a bot has no page of its own)."""
    accounts.ensure_admin(actor)
    if not bot.is_bot:
        raise ServiceError("invalid", _("%(username)s is not a bot; people make their own tokens.",
                                        username=bot.username))
    return create_token(user=bot, name=name, scopes=scopes, expires_in_days=expires_in_days, created_by=actor)
