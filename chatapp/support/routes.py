"""Views of the agent console: the console page, canned responses, ratings, transcripts, the demo host page."""
from functools import wraps

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..services import sites as site_service
from ..services import support as support_service
from ..services.errors import ServiceError
from ..services.search import MAX_QUERY_LENGTH
from .blueprint import bp
from .forms import CannedForm, DeleteForm


def agent_required(view):
    """Only staff and admins pass; other accounts get 403 (visitors have no login at all)."""

    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


@bp.get("")
@agent_required
def console():
    """The agent console: the queue, the conversation, the visitor's details."""
    return render_template(
        "support/console.html",
        agents=support_service.list_agents(),
        canned=support_service.list_canned(agent=current_user),
        sites=support_service.console_sites(agent=current_user),
        max_query_length=MAX_QUERY_LENGTH,
        selected=request.args.get("c", ""),
    )


@bp.get("/canned")
@agent_required
def canned():
    """Canned responses, with forms to add, change and delete them."""
    return _canned_page(CannedForm(prefix="new"))


def _canned_page(new_form: CannedForm, status: int = 200):
    items = support_service.list_canned(agent=current_user)
    edit_forms = {item.id: CannedForm(prefix=f"c{item.id}", obj=item) for item in items}
    return render_template(
        "support/canned.html", items=items, new_form=new_form, edit_forms=edit_forms, delete_form=DeleteForm()
    ), status


def _flash_form_errors(form) -> None:
    for errors in form.errors.values():
        for message in errors:
            flash(message, "error")


@bp.post("/canned")
@agent_required
def create_canned():
    """Add a canned response."""
    form = CannedForm(prefix="new")
    if form.validate_on_submit():
        try:
            item = support_service.save_canned(agent=current_user, shortcut=form.shortcut.data, body=form.body.data)
        except ServiceError as error:
            flash(error.message, "error")
        else:
            flash(_("Canned response /%(shortcut)s saved.", shortcut=item.shortcut), "success")
            return redirect(url_for("support.canned"))
    else:
        _flash_form_errors(form)
    return _canned_page(form, 400)


@bp.post("/canned/<int:canned_id>")
@agent_required
def update_canned(canned_id: int):
    """Change a canned response."""
    item = support_service.get_canned(canned_id)
    form = CannedForm(prefix=f"c{canned_id}")
    if form.validate_on_submit():
        try:
            support_service.save_canned(
                agent=current_user, shortcut=form.shortcut.data, body=form.body.data, canned=item
            )
        except ServiceError as error:
            flash(error.message, "error")
        else:
            flash(_("Canned response /%(shortcut)s saved.", shortcut=item.shortcut), "success")
    else:
        _flash_form_errors(form)
    return redirect(url_for("support.canned"))


@bp.post("/canned/<int:canned_id>/delete")
@agent_required
def delete_canned(canned_id: int):
    """Delete a canned response."""
    item = support_service.get_canned(canned_id)
    if not DeleteForm().validate_on_submit():
        abort(400)
    shortcut = item.shortcut
    support_service.delete_canned(agent=current_user, canned=item)
    flash(_("Canned response /%(shortcut)s deleted.", shortcut=shortcut), "success")
    return redirect(url_for("support.canned"))


@bp.get("/ratings")
@agent_required
def ratings():
    """How visitors rated the help."""
    rated, average = support_service.list_ratings(agent=current_user)
    return render_template("support/ratings.html", rated=rated, average=average)


@bp.get("/conversations/<slug>/transcript")
@agent_required
def transcript(slug: str):
    """The conversation as a plain-text file."""
    conversation = support_service.conversation_for(user=current_user, slug=slug)
    text = support_service.transcript(agent=current_user, conversation=conversation)
    return Response(
        text,
        mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="transcript-{conversation.room.slug}.txt"'},
    )


@bp.get("/demo")
def demo():
    """A pretend customer website with the widget on it, for anyone trying chatapp."""
    site = site_service.get_site_by_key(request.args["site"]) if request.args.get("site") else site_service.demo_site()
    snippet = site_service.embed_snippet(site=site, app_url=request.host_url) if site else None
    return render_template("support/demo.html", site=site, snippet=snippet)
