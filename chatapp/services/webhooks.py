"""Webhooks: URLs that admins register to be told of events, each call signed, sent through the outbox.

`emit(event, data, site_id=...)` adds one outbox job per enabled webhook that wants the event
(those of the whole server and those of the site), in the caller's transaction: the call is
stored with the change it tells of. The worker's handler POSTs it (docs/webhooks.md):

    POST <url>
    Content-Type: application/json
    Webhook-Id: <event id>            the same on every try: receivers drop repeats by it
    Idempotency-Key: <event id>
    Webhook-Timestamp: <unix seconds of this try>
    Webhook-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
    {"id": <event id>, "type": "message.created", "created": <unix seconds of the event>, "data": {...}}

A 2xx answer is delivered; 410 Gone disables the webhook; anything else, a redirect (never
followed: it could point anywhere), a timeout or a refused connection is tried again by the
outbox. WEBHOOK_DISABLE_AFTER deliveries failed for good in a row disable the webhook and
e-mail the admin who made it. Every try is kept in webhook_delivery for the admin's log.

Addresses: only http(s), and (unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES) never a host that
resolves to a private, loopback, link-local, shared, reserved or multicast address, checked
when the webhook is saved and again before every call, so a webhook cannot probe the server's
own network.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Conversation, Message, OutboxJob, Site, User, VisitorProfile, Webhook, WebhookDelivery, utcnow
from . import mail, outbox
from .errors import ServiceError

EVENTS = {
    "message.created": _l("A message is posted"),
    "conversation.created": _l("A support conversation starts"),
    "conversation.assigned": _l("A conversation is assigned to an agent"),
    "conversation.resolved": _l("A conversation is resolved"),
    "conversation.rated": _l("A visitor rates a conversation"),
    "class.member_joined": _l("A member joins a class"),
}
# The test call an admin sends from the webhook's page; every webhook gets it whatever its events.
PING = "ping"
MAX_URL_LENGTH = 2000
MAX_ERROR_LENGTH = 300
LOG_LIMIT = 100
USER_AGENT = "chatapp-webhooks/1"


# -- who wants what: cached per process, so that a send with no webhook costs no query ----------

def _cache() -> dict[str, Any]:
    return current_app.extensions.setdefault("chatapp.webhooks", {"until": 0.0, "hooks": []})


def forget_cached() -> None:
    """This process changed webhooks: read them again on the next event."""
    _cache()["until"] = 0.0


def _wanting(event: str, site_id: int | None) -> list[int]:
    """Ids of the enabled webhooks that want event for this site (and the whole server's)."""
    cache = _cache()
    now = time.monotonic()
    if now >= cache["until"]:
        rows = db.session.execute(
            db.select(Webhook.id, Webhook.site_id, Webhook.events).where(Webhook.enabled.is_(True))
        ).all()
        cache["hooks"] = [(row.id, row.site_id, frozenset(row.events or ())) for row in rows]
        # Another process's change is seen within this long (docs/webhooks.md).
        cache["until"] = now + float(current_app.config["WEBHOOK_CACHE_SECONDS"])
    return [
        hook_id for hook_id, hook_site, events in cache["hooks"]
        if (event in events or event == PING) and (hook_site is None or hook_site == site_id)
    ]


def emit(event: str, data: dict[str, Any], *, site_id: int | None = None) -> None:
    """Add a call of every webhook that wants event to the caller's transaction (uncommitted)."""
    hooks = _wanting(event, site_id)
    if not hooks:
        return
    occurred = int(time.time())
    for hook_id in hooks:
        outbox.enqueue("webhook", {"webhook_id": hook_id, "event": event, "created": occurred, "data": data},
                       subject=f"webhook:{hook_id}")


def _conversation_data(conversation: Conversation) -> dict[str, Any]:
    """The CONVERSATION of a webhook: who, which site, its state (the visitor's contact details too)."""
    visitor = conversation.visitor
    profile = db.session.scalar(db.select(VisitorProfile).filter_by(user_id=conversation.visitor_id))
    return {
        "id": conversation.id,
        "room": conversation.room.slug if conversation.room else None,
        "site": {"id": conversation.site_id, "name": conversation.site.name if conversation.site else None},
        "status": conversation.status,
        "visitor": {"id": conversation.visitor_id, "name": visitor.display_name if visitor else None,
                    "email": profile.email if profile is not None else None},
        "assignee": conversation.assignee.to_dict() if conversation.assignee else None,
        "rating": conversation.rating,
    }


def message_created(message: Message, conversation: Conversation | None) -> None:
    """message.created for a new message (never a staff note; `conversation`: a support room's).

    One cached lookup when nobody wants it.
    """
    if message.internal:
        return
    site_id = conversation.site_id if conversation is not None else None
    if not _wanting("message.created", site_id):
        return
    data = message.to_dict()
    if conversation is not None:
        data["conversation_id"] = conversation.id
        data["site_id"] = conversation.site_id
    emit("message.created", data, site_id=site_id)


def conversation_event(event: str, conversation: Conversation) -> None:
    """conversation.created / assigned / resolved / rated, in the transaction of that change."""
    if _wanting(event, conversation.site_id):
        db.session.flush()
        emit(event, _conversation_data(conversation), site_id=conversation.site_id)


def assigned_by_id(conversation_id: int) -> None:
    """conversation.assigned after an UPDATE that assigned it (routing), read back in that transaction."""
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is not None:
        db.session.refresh(conversation)
        conversation_event("conversation.assigned", conversation)


def member_joined(*, user: User, room: Any) -> None:
    """class.member_joined when somebody becomes a member of a private room (a class)."""
    if room.is_private and not room.is_direct and _wanting("class.member_joined", None):
        emit("class.member_joined", {"room": room.slug, "name": room.name, "user": user.to_dict()})


# -- registering: admins only; addresses checked -------------------------------------------------

def ensure_admin(actor: User) -> None:
    """Webhooks see every message they are told of: only admins make or read them."""
    if not actor.is_admin:
        raise ServiceError("forbidden", _("Only admins can manage webhooks."))


def _refused_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    return not ip.is_global or ip.is_multicast


def check_url(url: object, *, resolve: bool = True) -> str:
    """The URL, if a webhook may call it: http(s), a host, and (unless allowed) no private address.

    Raises invalid, with the reason in the reader's language.
    """
    text = url.strip() if isinstance(url, str) else ""
    if not text:
        raise ServiceError("invalid", _("Type the URL that should receive the calls, starting with https://."),
                           field="url")
    if len(text) > MAX_URL_LENGTH:
        raise ServiceError("invalid", _("That URL is too long (at most %(max)d characters).", max=MAX_URL_LENGTH),
                           field="url")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ServiceError("invalid", _("That is not a URL; type one like https://example.com/hooks."),
                           field="url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServiceError("invalid", _("Only http:// and https:// URLs with a host can receive webhooks."),
                           field="url")
    if parts.username or parts.password:
        raise ServiceError("invalid", _("Leave the user name and password out of the URL; calls are signed instead."),
                           field="url")
    if resolve and not current_app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"]:
        try:
            found = socket.getaddrinfo(parts.hostname, port or (443 if parts.scheme == "https" else 80),
                                       type=socket.SOCK_STREAM)
        except OSError:
            raise ServiceError("invalid", _("No address was found for %(host)s; check the URL.", host=parts.hostname),
                               field="url") from None
        for info in found:
            if _refused_address(ipaddress.ip_address(info[4][0])):
                raise ServiceError("invalid", _(
                    "%(host)s is an address in a private, loopback or link-local network; webhooks may only "
                    "call public addresses.", host=parts.hostname), field="url")
    return text


def check_events(events: object) -> list[str]:
    """The events chosen: one or more of EVENTS."""
    chosen = [event for event in events if isinstance(event, str)] if isinstance(events, (list, tuple)) else []
    if not chosen:
        raise ServiceError("invalid", _("Choose at least one event to be told of."), field="events")
    unknown = [event for event in chosen if event not in EVENTS]
    if unknown:
        raise ServiceError("invalid", _("Choose events from the list."), field="events")
    return sorted(set(chosen))


def _site(site_id: object) -> Site | None:
    if site_id in (None, "", 0):
        return None
    site = db.session.get(Site, site_id) if isinstance(site_id, int) else None
    if site is None:
        raise ServiceError("invalid", _("Choose a site from the list, or the whole server."), field="site_id")
    return site


def list_webhooks(*, actor: User) -> list[Webhook]:
    ensure_admin(actor)
    return list(db.session.scalars(db.select(Webhook).order_by(Webhook.id)))


def get_webhook(*, actor: User, webhook_id: int) -> Webhook:
    ensure_admin(actor)
    hook = db.session.get(Webhook, webhook_id)
    if hook is None:
        raise ServiceError("not_found", _("That webhook does not exist (any more)."))
    return hook


def create_webhook(*, actor: User, url: object, events: object, site_id: object = None) -> Webhook:
    """Register a webhook, enabled, with a new secret; commits."""
    ensure_admin(actor)
    hook = Webhook(url=check_url(url), events=check_events(events), site=_site(site_id),
                   secret=secrets.token_hex(32), created_by_id=actor.id)
    db.session.add(hook)
    db.session.commit()
    forget_cached()
    return hook


def update_webhook(*, actor: User, hook: Webhook, url: object, events: object, site_id: object = None) -> Webhook:
    ensure_admin(actor)
    hook.url, hook.events, hook.site = check_url(url), check_events(events), _site(site_id)
    hook.updated_at = utcnow()
    db.session.commit()
    forget_cached()
    return hook


def set_enabled(*, actor: User, hook: Webhook, enabled: bool) -> Webhook:
    """Turn a webhook on (its failure count starts again) or off."""
    ensure_admin(actor)
    hook.enabled = bool(enabled)
    hook.disabled_reason = None if enabled else _("Turned off by %(name)s.", name=actor.display_name)
    if enabled:
        hook.consecutive_failures = 0
    hook.updated_at = utcnow()
    db.session.commit()
    forget_cached()
    return hook


def rotate_secret(*, actor: User, hook: Webhook) -> Webhook:
    ensure_admin(actor)
    hook.secret = secrets.token_hex(32)
    hook.updated_at = utcnow()
    db.session.commit()
    return hook


def delete_webhook(*, actor: User, hook: Webhook) -> None:
    ensure_admin(actor)
    db.session.delete(hook)
    db.session.commit()
    forget_cached()


def send_ping(*, actor: User, hook: Webhook) -> None:
    """A `ping` call to this one webhook, through the outbox like any other."""
    ensure_admin(actor)
    if not hook.enabled:
        raise ServiceError("conflict", _("Turn the webhook on first; a webhook that is off is not called."))
    outbox.enqueue("webhook", {"webhook_id": hook.id, "event": PING, "created": int(time.time()),
                               "data": {"webhook_id": hook.id, "sent_by": actor.username}},
                   subject=f"webhook:{hook.id}")
    db.session.commit()


def delivery_log(*, actor: User, hook: Webhook) -> tuple[list[WebhookDelivery], list[OutboxJob]]:
    """Its tries, newest first, and its calls still waiting (with their next try)."""
    ensure_admin(actor)
    tries = list(db.session.scalars(
        db.select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
        .order_by(WebhookDelivery.id.desc()).limit(LOG_LIMIT)
    ))
    waiting = list(db.session.scalars(
        db.select(OutboxJob).where(OutboxJob.subject == f"webhook:{hook.id}",
                                   OutboxJob.state.in_(("pending", "sending", "failed")))
        .order_by(OutboxJob.id.desc()).limit(LOG_LIMIT)
    ))
    return tries, waiting


# -- calling ------------------------------------------------------------------------------------

def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The Webhook-Signature value: v1=hex(HMAC-SHA256(secret, "<timestamp>." + body))."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, never followed (it could send the call to an address not checked)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 - urllib's signature
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _record(job: OutboxJob, hook_id: int, *, ok: bool, status: int | None, started: float, error: str | None) -> None:
    db.session.add(WebhookDelivery(
        webhook_id=hook_id, job_id=job.id, event_id=job.event_id, event=job.payload.get("event", "?"),
        attempt=job.attempts, ok=ok, status_code=status, duration_ms=int((time.monotonic() - started) * 1000),
        error=(error or "")[:MAX_ERROR_LENGTH] or None,
    ))
    db.session.commit()


def _disable(hook: Webhook, reason: str) -> None:
    """Turn a failing webhook off and tell the admin who made it (an e-mail, if they have an address)."""
    hook.enabled = False
    hook.disabled_reason = reason
    hook.updated_at = utcnow()
    if hook.created_by is not None and hook.created_by.email:
        outbox.enqueue("webhook_disabled", {"webhook_id": hook.id, "user_id": hook.created_by_id},
                       subject=f"user:{hook.created_by_id}")
    db.session.commit()
    forget_cached()


def _after_failure(job: OutboxJob) -> None:
    """A call failed for good: count it, and past WEBHOOK_DISABLE_AFTER in a row turn the webhook off."""
    hook = db.session.get(Webhook, job.payload.get("webhook_id"))
    if hook is None or not hook.enabled:
        return
    hook.consecutive_failures += 1
    limit = int(current_app.config["WEBHOOK_DISABLE_AFTER"])
    if hook.consecutive_failures >= limit:
        with force_locale((hook.created_by.language if hook.created_by else None) or "en"):
            _disable(hook, _("Turned off after %(count)d deliveries in a row failed.", count=hook.consecutive_failures))
    else:
        db.session.commit()


@outbox.handler("webhook", on_failed=_after_failure, title=_l("Webhook call"))
def deliver(job: OutboxJob) -> None:
    """POST one call, signed; record the try; raise to be tried again (Permanent: never)."""
    hook = db.session.get(Webhook, job.payload["webhook_id"])
    if hook is None:
        raise outbox.Permanent("the webhook was deleted")
    if not hook.enabled:
        raise outbox.Permanent("the webhook is turned off")
    started = time.monotonic()
    try:
        check_url(hook.url)  # again: what the name resolves to may have changed since it was saved
    except ServiceError as refused:
        _record(job, hook.id, ok=False, status=None, started=started, error=refused.message)
        raise outbox.Permanent(refused.message) from None
    body = json.dumps({"id": job.event_id, "type": job.payload["event"], "created": job.payload["created"],
                       "data": job.payload["data"]}, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(hook.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": USER_AGENT, "Webhook-Id": job.event_id,
        "Idempotency-Key": job.event_id, "Webhook-Timestamp": timestamp,
        "Webhook-Signature": sign(hook.secret, timestamp, body),
    })
    hook_id, url = hook.id, hook.url
    db.session.rollback()  # hold no transaction while waiting for the receiver
    try:
        with _OPENER.open(request, timeout=float(current_app.config["WEBHOOK_TIMEOUT_SECONDS"])) as answer:
            status = answer.status
    except urllib.error.HTTPError as answer:
        status = answer.code
    except (urllib.error.URLError, OSError) as failure:
        reason = getattr(failure, "reason", failure)
        _record(job, hook_id, ok=False, status=None, started=started, error=f"no answer from {url}: {reason}")
        raise RuntimeError(f"no answer: {reason}") from None
    ok = 200 <= status < 300
    error = None if ok else (f"redirect to elsewhere, not followed (HTTP {status})" if 300 <= status < 400
                             else f"HTTP {status}")
    _record(job, hook_id, ok=ok, status=status, started=started, error=error)
    if ok:
        hook = db.session.get(Webhook, hook_id)
        if hook is not None and hook.consecutive_failures:
            hook.consecutive_failures = 0
            db.session.commit()
        return
    if status == 410:
        hook = db.session.get(Webhook, hook_id)
        if hook is not None:
            with force_locale((hook.created_by.language if hook.created_by else None) or "en"):
                _disable(hook, _("Turned off: the receiver answered 410 Gone."))
        raise outbox.Permanent("the receiver answered 410 Gone")
    raise RuntimeError(error)


@outbox.handler("webhook_disabled", title=_l("E-mail: a webhook was turned off"))
def mail_disabled(job: OutboxJob) -> None:
    """Tell the admin who made a webhook that it was turned off, and why."""
    hook = db.session.get(Webhook, job.payload["webhook_id"])
    admin = db.session.get(User, job.payload["user_id"])
    if hook is None or admin is None or not admin.email:
        return  # deleted since, or nobody to tell
    subject, text, html = mail.render(
        "webhook_disabled", language=admin.language, hook=hook, admin=admin,
        page_url=f"{mail.public_url()}/admin/webhooks/{hook.id}",
    )
    mail.deliver(mail.compose(to=mail.mailbox(admin.email, admin.display_name), subject=subject, text=text,
                              html=html, event_id=job.event_id, language=admin.language))
