"""Views the website widget uses: the loader, the chat frame, and its small JSON API."""
import os

from flask import Response, current_app, jsonify, render_template, request, send_from_directory
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from ..extensions import csrf, limiter
from ..headers import CONTENT_SECURITY_POLICY
from ..i18n import select_locale
from ..services import preferences, visitor_mail
from ..services import sites as site_service
from ..services import support as support_service
from ..services import visitors as visitor_service
from ..services.errors import ServiceError
from .blueprint import widget_bp

LOADER_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "static", "widget")
LOADER_MAX_AGE_S = 3600  # short enough that a fix reaches every site within the hour


def _widget_limit() -> str:
    return current_app.config["WIDGET_RATE_LIMIT"]


def _own_origin() -> str:
    return request.host_url.rstrip("/")


@widget_bp.get("/widget.js")
@limiter.exempt
def loader():
    """The loader script a site embeds: tiny, dependency-free, cacheable, loadable from any origin."""
    response = send_from_directory(LOADER_DIR, "loader.js", mimetype="text/javascript", max_age=LOADER_MAX_AGE_S)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@widget_bp.get("/widget/frame")
def frame():
    """The chat itself, in an iframe on the site's pages; only the site's origins may frame it."""
    site = site_service.get_site_by_key(request.args.get("site"))
    return _frame_response(site, language=preferences.widget_language(site=site, host_tag=request.args.get("lang")))


def _frame_response(site, *, language: str | None, **context):
    with force_locale(language or get_locale()):  # None: as any page (the visitor's Accept-Language)
        response = Response(render_template("support/widget_frame.html", site=site, **context))
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", f"frame-ancestors {site_service.frame_ancestors(site)}"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@widget_bp.get("/widget/continue/<token>")
@limiter.limit(_widget_limit)
def continue_chat(token: str):
    """The link in an e-mail of replies: the visitor's conversation on a page of its own, signed in as them."""
    visitor, site = visitor_service.visitor_from_link(token=token)
    language = preferences.widget_language(site=site, host_tag=None) or visitor.language
    response = _frame_response(site, language=language,
                               resume_token=visitor_service.issue_visitor_token(visitor=visitor, site=site))
    response.headers["Referrer-Policy"] = "no-referrer"  # the address holds the link's token
    return response


@widget_bp.post("/widget/api/transcript")
@csrf.exempt  # no cookie is read: the visitor token in the body is the credential
@limiter.limit(_widget_limit)
def transcript():
    """The visitor asks for the conversation by e-mail: {visitor_token}."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ServiceError("invalid", _("Send a JSON object with visitor_token."))
    visitor = visitor_service.visitor_from_token(token=data.get("visitor_token"))
    address = visitor_mail.request_transcript(
        visitor=visitor, conversation=support_service.conversation_of_visitor(visitor.id))
    return jsonify(ok=True, email=address)


@widget_bp.post("/widget/api/session")
@csrf.exempt  # no cookie is read: the visitor token in the body is the credential
@limiter.limit(_widget_limit)
def session():
    """Start or resume a visitor's chat: {site_key, visitor_token?, page_url?, name?, email?, identity?}."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ServiceError("invalid", _("Send a JSON object with site_key."))
    unknown = set(data) - {"site_key", "visitor_token", "page_url", "name", "email", "identity"}
    if unknown:
        raise ServiceError(
            "invalid", _("Unknown field(s): %(fields)s.", fields=", ".join(sorted(map(str, unknown)))[:200])
        )
    started = visitor_service.start_session(
        site_key=data.get("site_key"),
        visitor_token=data.get("visitor_token"),
        page_url=data.get("page_url"),
        user_agent=request.headers.get("User-Agent"),
        name=data.get("name"),
        email=data.get("email"),
        identity=data.get("identity"),
        origin=request.headers.get("Origin"),
        own_origin=_own_origin(),
        language=select_locale(),  # the frame's (its Accept-Language): e-mails to the visitor speak it
    )
    response = jsonify(
        ok=True,
        visitor_token=started.visitor_token,
        notify_token=started.notify_token,
        visitor=started.visitor.to_dict(),
        contact={"name": started.profile.name, "email": started.profile.email},
        site=started.site.to_dict(),
        conversation=support_service.summarize_for_visitor(conversation=started.conversation),
        agents_online=support_service.agents_online(),
        hours=started.hours,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@widget_bp.get("/widget/api/unread")
@limiter.limit(_widget_limit)
def unread():
    """For the loader on the host page: how many replies wait for this visitor (?t=NOTIFY_TOKEN)."""
    origin = request.headers.get("Origin")
    count, _site = visitor_service.pending_replies(token=request.args.get("t"), origin=origin, own_origin=_own_origin())
    response = jsonify(ok=True, unread=count)
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin  # checked against the site's origins above
    response.headers["Vary"] = "Origin"
    response.headers["Cache-Control"] = "no-store"
    return response
