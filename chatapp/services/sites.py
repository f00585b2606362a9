"""Widget sites: registering them, which origins may embed them, and verifying host-page identities."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Iterable
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Site, User
from .accounts import ensure_admin
from .errors import ServiceError
from .preferences import check_language
from .text import clean_name

MAX_SITE_NAME_LENGTH = 80
MAX_ORIGINS = 20
MIN_IDENTITY_SECRET_LENGTH = 16
MAX_IDENTITY_SECRET_LENGTH = 128
MAX_EXTERNAL_ID_LENGTH = 128
DEFAULT_PORTS = {"http": 80, "https": 443}


def check_origin(origin: object) -> str:
    """Return origin as a browser sends it ("https://shop.example[:port]"), or raise invalid."""
    text = origin.strip() if isinstance(origin, str) else ""
    problem = _(
        "An origin is a scheme and a host, like https://shop.example (got %(origin)s).", origin=repr(text[:100])
    )
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ServiceError("invalid", problem) from None
    if (
        parts.scheme not in DEFAULT_PORTS
        or not parts.hostname
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "*" in text
    ):
        raise ServiceError("invalid", problem)
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 address keeps its brackets in an origin
        host = f"[{host}]"
    if port is not None and port != DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}:{port}"
    return f"{parts.scheme}://{host}"


def check_origins(origins: Iterable[object]) -> list[str]:
    """Return the normalized, de-duplicated origins (1 to MAX_ORIGINS), or raise invalid."""
    clean: list[str] = []
    for origin in origins:
        normalized = check_origin(origin)
        if normalized not in clean:
            clean.append(normalized)
    if not clean:
        raise ServiceError("invalid", _("Give at least one origin the widget will be embedded on, like https://shop.example."))
    if len(clean) > MAX_ORIGINS:
        raise ServiceError("invalid", _("A site has at most %(max)d origins.", max=MAX_ORIGINS))
    return clean


def check_identity_secret(secret: object) -> str | None:
    """Return the identity secret (None when blank), or raise invalid."""
    if secret is None or (isinstance(secret, str) and not secret.strip()):
        return None
    text = secret.strip() if isinstance(secret, str) else ""
    if not (MIN_IDENTITY_SECRET_LENGTH <= len(text) <= MAX_IDENTITY_SECRET_LENGTH) or not text.isascii() or any(
        ch.isspace() or not ch.isprintable() for ch in text
    ):
        raise ServiceError(
            "invalid",
            _("An identity secret is %(min)d to %(max)d printable ASCII characters without spaces (for example "
              "the output of `openssl rand -hex 32`).", min=MIN_IDENTITY_SECRET_LENGTH, max=MAX_IDENTITY_SECRET_LENGTH),
        )
    return text


def new_identity_secret() -> str:
    """A fresh random identity secret."""
    return secrets.token_hex(32)


def create_site(
    *, actor: User | None, name: str, origins: Iterable[object], identity_secret: object = None,
    prechat_enabled: bool = False, prechat_name_required: bool = False, prechat_email_required: bool = False,
    language: object = None, transcript_on_resolve: bool = False,
) -> Site:
    """Register a site that may embed the widget; it gets a fresh public key. Admins only (None: the CLI)."""
    ensure_admin(actor)
    site = Site(site_key=secrets.token_urlsafe(12))
    _apply(site, name=name, origins=origins, identity_secret=identity_secret, prechat_enabled=prechat_enabled,
           prechat_name_required=prechat_name_required, prechat_email_required=prechat_email_required,
           language=language, transcript_on_resolve=transcript_on_resolve)
    db.session.add(site)
    try:
        db.session.commit()
    except IntegrityError:  # a key collision, in theory: 96 random bits
        db.session.rollback()
        raise ServiceError("conflict", _("Could not register the site; try again.")) from None
    return site


def update_site(
    *, actor: User | None, site: Site, name: str, origins: Iterable[object], identity_secret: object = None,
    prechat_enabled: bool = False, prechat_name_required: bool = False, prechat_email_required: bool = False,
    language: object = None, transcript_on_resolve: bool = False,
) -> Site:
    """Change a site's name, origins, identity secret, pre-chat form, widget language and transcripts; admins only."""
    ensure_admin(actor)
    _apply(site, name=name, origins=origins, identity_secret=identity_secret, prechat_enabled=prechat_enabled,
           prechat_name_required=prechat_name_required, prechat_email_required=prechat_email_required,
           language=language, transcript_on_resolve=transcript_on_resolve)
    db.session.commit()
    return site


def _apply(site: Site, *, name: str, origins: Iterable[object], identity_secret: object, prechat_enabled: bool,
           prechat_name_required: bool, prechat_email_required: bool, language: object,
           transcript_on_resolve: bool) -> None:
    # Check everything before changing anything: a refused edit leaves the site as it was.
    clean = clean_name(name, what=_("site name"), max_length=MAX_SITE_NAME_LENGTH)
    allowed = " ".join(check_origins(origins))
    secret = check_identity_secret(identity_secret)
    site.language = check_language(language)
    site.name, site.allowed_origins, site.identity_secret = clean, allowed, secret
    site.prechat_enabled = bool(prechat_enabled)
    # Required fields only mean something when the form is shown.
    site.prechat_name_required = bool(prechat_enabled and prechat_name_required)
    site.prechat_email_required = bool(prechat_enabled and prechat_email_required)
    site.transcript_on_resolve = bool(transcript_on_resolve)


def list_sites(*, actor: User | None) -> list[Site]:
    """Every site, by name; admins only."""
    ensure_admin(actor)
    return list(db.session.scalars(db.select(Site).order_by(Site.name, Site.id)))


def get_site(site_id: int) -> Site:
    """The site with this id, or not_found."""
    site = db.session.get(Site, site_id)
    if site is None:
        raise ServiceError("not_found", _("There is no such site."))
    return site


def get_site_by_key(site_key: object) -> Site:
    """The site with this public key, or not_found."""
    site = None
    if isinstance(site_key, str) and 1 <= len(site_key) <= 32:
        site = db.session.scalar(db.select(Site).filter_by(site_key=site_key))
    if site is None:
        raise ServiceError("not_found", _("This chat widget is not set up: the site key is unknown."))
    return site


def demo_site() -> Site | None:
    """The site /support/demo shows: the first one registered (seed-demo creates it)."""
    return db.session.scalar(db.select(Site).order_by(Site.id).limit(1))


def origin_allowed_for_site(*, site: Site, origin: str | None, own_origin: str) -> bool:
    """Whether a browser page at `origin` may use this site's widget API (no Origin: not a browser)."""
    if origin is None:
        return True
    return origin == own_origin or origin in site.origins


def ensure_origin_allowed(*, site: Site, origin: str | None, own_origin: str) -> None:
    """Raise forbidden when a browser page from another origin calls this site's widget API."""
    if not origin_allowed_for_site(site=site, origin=origin, own_origin=own_origin):
        raise ServiceError("forbidden", _("This website is not allowed to use this chat widget."))


def frame_ancestors(site: Site) -> str:
    """The CSP frame-ancestors source list of the widget frame: chatapp's own pages and the site's origins."""
    return " ".join(["'self'", *site.origins])


def embed_snippet(*, site: Site, app_url: str) -> str:
    """The one tag a site puts on its pages."""
    return f'<script src="{app_url.rstrip("/")}/widget.js" data-site="{site.site_key}" async></script>'


def identity_hmac(*, secret: str, user_id: str) -> str:
    """HMAC-SHA256 of the host site's user id under the site's identity secret, as hex (what host pages send)."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def verify_identity(*, site: Site, user_id: object, signature: object) -> str:
    """Return the host site's user id if its HMAC is right; else raise (constant-time comparison)."""
    if not site.identity_secret:
        raise ServiceError("forbidden", _("This site does not verify visitor identities; leave out `identity`."))
    if not isinstance(user_id, str) or not 1 <= len(user_id) <= MAX_EXTERNAL_ID_LENGTH or not user_id.isprintable():
        raise ServiceError(
            "invalid", _("identity.user_id is 1 to %(max)d printable characters.", max=MAX_EXTERNAL_ID_LENGTH)
        )
    if not isinstance(signature, str) or len(signature) > 256:
        raise ServiceError("invalid", _("identity.hmac is the hex HMAC-SHA256 of user_id."))
    expected = identity_hmac(secret=site.identity_secret, user_id=user_id)
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode("utf-8", "replace")):
        raise ServiceError("forbidden", _("The identity could not be verified."))
    return user_id
