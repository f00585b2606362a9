"""The link at the foot of every e-mail: turn that kind of e-mail off with one click, or on again.

GET shows what the link turns off and a button (a link scanner that opens the page unsubscribes
nobody); POST does it. Mail programs POST "List-Unsubscribe=One-Click" to the same address
(RFC 8058) without a page or a cookie, so POST is exempt from CSRF: the signed token in the
address is the credential, and it can only change that person's one kind of e-mail.
"""
from __future__ import annotations

from flask import render_template, request

from ..extensions import csrf
from ..services import subscriptions
from .blueprint import bp


def _page(token: str, *, changed: bool, wanted: bool):
    user, topic = subscriptions.from_token(token)
    return render_template("unsubscribe.html", token=token, user=user, topic=subscriptions.TOPICS[topic],
                           wanted=wanted if changed else subscriptions.wants(user, topic), changed=changed)


@bp.get("/mail/unsubscribe/<token>")
def unsubscribe_page(token: str):
    """What the link turns off, and the button that does it."""
    return _page(token, changed=False, wanted=True)


@bp.post("/mail/unsubscribe/<token>")
@csrf.exempt
def unsubscribe(token: str):
    """Turn the link's kind of e-mail off (the page's button, or a mail program's one-click POST)."""
    subscriptions.change_by_token(token, wanted=False)
    if request.form.get("List-Unsubscribe") == "One-Click":
        return "", 204
    return _page(token, changed=True, wanted=False)


@bp.post("/mail/resubscribe/<token>")
@csrf.exempt
def resubscribe(token: str):
    """Undo: turn that kind of e-mail on again."""
    subscriptions.change_by_token(token, wanted=True)
    return _page(token, changed=True, wanted=True)
