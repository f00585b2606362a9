"""Accounts: creating, authenticating, changing roles, deactivating."""
from __future__ import annotations

import re

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import ROLES, User, password_hasher
from ..realtime.connections import disconnect_user
from .errors import ServiceError
from .ratelimit import Backoff, check_rate, check_under_rate, count_rate, wait_in_words
from .rows import by_id
from .text import clean_name

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
MAX_DISPLAY_NAME_LENGTH = 64

BOT_LOGIN_REFUSED = _l(
    "This is a bot account: it cannot log in with a password. It acts through its access tokens on the API."
)

# Verified when the username is unknown, so that a miss costs as long as a wrong password.
_DUMMY_HASH = password_hasher.hash("chatapp-timing-equaliser")


def normalize_username(username: str) -> str:
    """Usernames compare case-insensitively and without surrounding space."""
    return (username or "").strip().lower()


def check_username(username: str) -> str:
    """Return the normalized username or raise invalid."""
    name = normalize_username(username)
    if not USERNAME_RE.match(name):
        raise ServiceError(
            "invalid",
            _("A username is 3 to 32 characters: letters, digits, '.', '_' or '-', starting with a letter or digit."),
        )
    return name


def check_display_name(display_name: object) -> str:
    """Return a clean display name or raise invalid."""
    return clean_name(display_name, what=_("display name"), max_length=MAX_DISPLAY_NAME_LENGTH)


def check_password(password: str) -> str:
    """Return the password if it is long enough, else raise invalid."""
    if not isinstance(password, str) or not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ServiceError("invalid", _("A password is %(min)d to %(max)d characters.", min=MIN_PASSWORD_LENGTH,
                                         max=MAX_PASSWORD_LENGTH))
    return password


def check_role(role: str) -> str:
    """Return the role if it is one of ROLES, else raise invalid."""
    if role not in ROLES:
        raise ServiceError("invalid", _("A role is one of: %(roles)s.", roles=", ".join(ROLES)))
    return role


def new_account(*, username: str, role: str, display_name: str | None) -> User:
    """A checked, unsaved account (no password yet); raise invalid, or conflict if the username is taken."""
    name = check_username(username)
    check_role(role)
    shown = check_display_name(display_name if display_name else name)
    if db.session.scalar(db.select(User.id).filter_by(username=name)) is not None:
        raise ServiceError("conflict", _("That username is taken; choose another."))
    return User(username=name, display_name=shown, role=role)


def save_account(user: User) -> User:
    """Add and commit an account made by new_account; conflict if the same username was taken meanwhile."""
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:  # the same username registered by a concurrent request
        db.session.rollback()
        raise ServiceError("conflict", _("That username is taken; choose another.")) from None
    return user


def create_user(*, username: str, password: str, role: str = "member", display_name: str | None = None) -> User:
    """Create and commit an account; raise conflict if the username is taken."""
    check_password(password)
    user = new_account(username=username, role=role, display_name=display_name)
    user.set_password(password)
    return save_account(user)


def ensure_admin(actor: User | None) -> None:
    """Raise forbidden unless actor is an admin; None is the operator at the server's command line (the CLI)."""
    if actor is not None and not actor.is_admin:
        raise ServiceError("forbidden", _("Only an admin can do that."))


def create_account(*, actor: User, username: str, password: str, role: str, display_name: str | None) -> User:
    """An admin creates an account of any role (staff, by default on the admin page)."""
    ensure_admin(actor)
    return create_user(username=username, password=password, role=role, display_name=display_name)


def register_member(*, username: str, password: str, display_name: str | None, address: str | None) -> User:
    """Open registration: a member account; an address counts only the accounts it created (a class registers at
    once)."""
    check_under_rate(action="register", key=address)
    user = create_user(username=username, password=password, display_name=display_name)
    count_rate(action="register", key=address)
    return user


def authenticate(*, username: str, password: str) -> User | None:
    """Return the active user these credentials belong to, or None (never saying which half was wrong)."""
    user = db.session.scalar(db.select(User).filter_by(username=normalize_username(username)))
    if user is None or user.is_visitor or user.is_bot:  # visitors are no accounts, bots use tokens: never a login
        try:
            password_hasher.verify(_DUMMY_HASH, password or "")
        except Exception:  # noqa: BLE001 - any failure is the expected outcome here
            pass
        return None
    if not user.check_password(password or "") or not user.is_active:
        return None
    db.session.commit()  # check_password may have upgraded the hash
    return user


def _login_backoffs() -> tuple[Backoff, Backoff]:
    """Failed logins per account and address (a person mistyping), and per account from anywhere (a spread-out
    guesser)."""
    config = current_app.config
    shared = dict(first_delay=config["LOGIN_FAILURE_DELAY_SECONDS"], max_delay=config["LOGIN_MAX_DELAY_SECONDS"],
                  window=config["LOGIN_FAILURE_WINDOW_SECONDS"])
    return (Backoff(name="login-account-address", free=config["LOGIN_FREE_FAILURES"], **shared),
            Backoff(name="login-account", free=config["LOGIN_ACCOUNT_FREE_FAILURES"], **shared))


def check_login_allowed(*, username: str, address: str | None) -> None:
    """Raise rate_limited (saying when, in words) while this account, from here or anywhere, or this address must wait.

    The same for an account that does not exist, so a wait never tells whether it does.
    """
    name = normalize_username(username)
    per_pair, per_account = _login_backoffs()
    wait = max(per_pair.wait(f"{name}|{address}"), per_account.wait(name))
    if wait:
        raise ServiceError(
            "rate_limited",
            _("Too many failed sign-ins for this account. Try again %(when)s.", when=wait_in_words(wait)),
            retry_after=wait,
        )
    try:
        check_under_rate(action="login_failure", key=address)
    except ServiceError as limited:
        seconds = int(limited.extra["retry_after"])
        raise ServiceError(
            "rate_limited",
            _("Too many failed sign-ins from your network. Try again %(when)s.", when=wait_in_words(seconds)),
            retry_after=seconds,
        ) from None


def record_login(*, username: str, address: str | None, succeeded: bool) -> None:
    """Count a failed login against the account, the account and address, and the address;
    a good one clears the account's."""
    name = normalize_username(username)
    per_pair, per_account = _login_backoffs()
    if succeeded:
        per_pair.clear(f"{name}|{address}")
        per_account.clear(name)
        return
    per_pair.fail(f"{name}|{address}")
    per_account.fail(name)
    count_rate(action="login_failure", key=address)


def log_in(*, username: str, password: str, address: str | None) -> User:
    """The user these credentials belong to, or unauthorized; rate_limited, before any check,
    while guessing must wait."""
    check_login_allowed(username=username, address=address)
    user = authenticate(username=username, password=password)
    record_login(username=username, address=address, succeeded=user is not None)
    if user is None:
        if is_bot_username(username):
            raise ServiceError("unauthorized", BOT_LOGIN_REFUSED)
        raise ServiceError("unauthorized", _("Wrong username or password."))
    return user


def is_bot_username(username: str) -> bool:
    """Whether username names a bot (its name and badge are public: saying so tells nothing secret)."""
    return bool(db.session.scalar(
        db.select(User.is_bot).filter_by(username=normalize_username(username))
    ))


def load_user_by_session_id(session_id: str) -> User | None:
    """Resolve a Flask-Login id "USER:EPOCH"; stale epochs and inactive accounts give None."""
    try:
        user_id, epoch = (int(part) for part in session_id.split(":"))
    except (ValueError, AttributeError):
        return None
    user = by_id(User, user_id)  # every socket event reloads its user: Core, not the ORM
    if user is None or user.session_epoch != epoch or not user.is_active or user.is_visitor or user.is_bot:
        return None
    return user


def end_sessions(*, user: User) -> None:
    """Invalidate every session of user (logout everywhere) and close their open sockets."""
    user.session_epoch += 1
    db.session.commit()
    disconnect_user(user.id)


def set_role(*, actor: User, user: User, role: str) -> User:
    """Change user's role; only admins may, and never their own."""
    if not actor.is_admin:
        raise ServiceError("forbidden", _("Only an admin can change roles."))
    if actor.id == user.id:
        raise ServiceError("forbidden", _("You cannot change your own role; ask another admin."))
    if user.is_visitor:
        raise ServiceError("forbidden", _("A website visitor is not an account; it has no role to change."))
    user.role = check_role(role)
    db.session.commit()
    return user


def set_active(*, actor: User, user: User, active: bool) -> User:
    """Deactivate or reactivate user; deactivation ends their sessions and closes their sockets."""
    if not actor.is_admin:
        raise ServiceError("forbidden", _("Only an admin can deactivate accounts."))
    if actor.id == user.id:
        raise ServiceError("forbidden", _("You cannot deactivate your own account."))
    user.is_active_account = active
    if not active:
        user.session_epoch += 1
    db.session.commit()
    if not active:
        disconnect_user(user.id)
    return user


def list_users(*, actor: User | None) -> list[User]:
    """Every account, by username (website visitors are not accounts: see the support console); admins only."""
    ensure_admin(actor)
    return list(db.session.scalars(db.select(User).where(User.role != "visitor").order_by(User.username)))


def users_by_ids(user_ids: list[int]) -> list[User]:
    """The accounts with these ids, by display name."""
    if not user_ids:
        return []
    return list(db.session.scalars(db.select(User).where(User.id.in_(user_ids)).order_by(User.display_name)))


def get_user(user_id: int) -> User:
    """The account with this id, or not_found."""
    user = db.session.get(User, user_id)
    if user is None:
        raise ServiceError("not_found", _("No such account."))
    return user


def get_user_by_username(username: object) -> User:
    """The account with this username, or not_found."""
    user = db.session.scalar(db.select(User).filter_by(username=normalize_username(username))) \
        if isinstance(username, str) else None
    if user is None or user.is_visitor:
        raise ServiceError("not_found", _("No such account."))
    return user


def refuse_handshake(*, address: str | None, error: ServiceError) -> ServiceError:
    """Count a refused Socket.IO handshake from address; answer error, or rate_limited once it has had too many."""
    try:
        check_rate(action="handshake", key=address)
    except ServiceError as limited:
        return limited
    return error
