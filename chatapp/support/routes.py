"""Views of the agent console: the console page, canned responses, ratings, transcripts, desk settings, the demo."""
from collections.abc import Callable
from functools import wraps

from babel.dates import format_datetime
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..admin.routes import flash_form_errors
from ..models import utcnow
from ..services import accounts, desk_settings, hours, teams
from ..services import reports as report_service
from ..services import sites as site_service
from ..services import support as support_service
from ..services.errors import ServiceError
from ..services.search import MAX_QUERY_LENGTH
from .blueprint import bp
from .forms import ROUTING_NAMES, CannedForm, CapForm, DeleteForm, HoursForm, RoutingForm


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
        runs_desk=teams.is_lead(current_user),
        may_read_reports=report_service.may_read_reports(current_user),
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
        flash_form_errors(form)
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
        flash_form_errors(form)
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


@bp.get("/reports")
@agent_required
def reports():
    """The desk's reports: a filter form, charts with their tables, and the CSV link."""
    choices = report_service.report_choices(actor=current_user)
    try:
        query = report_service.read_query(request.args, today=utcnow().date())
        report = report_service.report_for(actor=current_user, query=query)
    except ServiceError as error:
        if error.code != "invalid":
            raise
        return render_template("support/reports.html", choices=choices, args=request.args, report=None,
                               query=None, error=error.message), 400
    return render_template("support/reports.html", choices=choices, args=request.args, report=report, query=query,
                           error=None, duration=report_service.human_duration)


@bp.get("/reports.csv")
@agent_required
def reports_csv():
    """The same report as CSV (durations in seconds)."""
    query = report_service.read_query(request.args, today=utcnow().date())
    report = report_service.report_for(actor=current_user, query=query)
    filename = f"report-{query.start.isoformat()}-{query.end.isoformat()}.csv"
    return Response(report_service.report_csv(report), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


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


def lead_required(view):
    """Only admins and team leads pass (the desk settings page); the services check each site and agent."""

    @wraps(view)
    @agent_required
    def wrapper(*args, **kwargs):
        if not teams.is_lead(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def _routing_form(site, formdata=None) -> RoutingForm:
    data = {"routing": site.routing, "agent_cap": "" if site.agent_cap is None else str(site.agent_cap),
            "requeue_on_offline": site.requeue_on_offline}
    return RoutingForm(prefix=f"r{site.id}", formdata=formdata, data=data)


def _hours_form(site, formdata=None) -> HoursForm:
    days = {f"day_{day}": text for day, text in desk_settings.schedule_text(site.schedule).items()}
    data = {"timezone": site.timezone, "always_open": site.schedule is None,
            "holidays": "\n".join(site.holidays or []), **days}
    return HoursForm(prefix=f"h{site.id}", formdata=formdata, data=data)


def _cap_form(led, formdata=None) -> CapForm:
    return CapForm(prefix=f"a{led.user.id}", formdata=formdata, data={"cap": "" if led.cap is None else str(led.cap)})


def _desk_page(*, posted: RoutingForm | HoursForm | CapForm | None = None, status: int = 200):
    """The desk page; `posted` (a form that failed) is shown as it was sent, with its errors."""
    forms: dict[str, RoutingForm | HoursForm | CapForm] = {}
    sites = teams.sites_run_by(current_user)
    led = desk_settings.agents_led_by(current_user)
    for site in sites:
        forms[f"r{site.id}"] = _routing_form(site)
        forms[f"h{site.id}"] = _hours_form(site)
    for agent in led:
        forms[f"a{agent.user.id}"] = _cap_form(agent)
    if posted is not None:
        forms[posted._prefix.rstrip("-")] = posted
    return render_template(
        "support/desk.html", sites=sites, agents=led, forms=forms, routing_names=ROUTING_NAMES,
        timezones=hours.timezone_names(), hours_now={site.id: desk_settings.hours_now(site) for site in sites},
        local=_local_clock,
    ), status


def _local_clock(moment) -> str:
    """A moment already in a site's time zone, as "Mon 09:00" in the reader's language (not moved to theirs)."""
    return format_datetime(moment, "EEE HH:mm", tzinfo=moment.tzinfo, locale=str(get_locale()))


def _show_error(form, error: ServiceError) -> None:
    """Put a service's error beside the field it names (or above the form)."""
    field = form._fields.get(error.extra.get("field", ""))
    if field is None:
        flash(error.message, "error")
    else:
        field.errors = [*field.errors, error.message]


@bp.get("/desk")
@lead_required
def desk():
    """The desk settings a lead runs: each of their sites' routing and hours, their agents' caps."""
    return _desk_page()


def _submit(form: RoutingForm | HoursForm | CapForm, save: Callable[[], object], saved: str, anchor: str):
    """Save a valid desk form and go back to its place on the page; else show the form again with its errors."""
    if form.validate_on_submit():
        try:
            save()
        except ServiceError as error:
            _show_error(form, error)
        else:
            flash(saved, "success")
            return redirect(url_for("support.desk", _anchor=anchor))
    return _desk_page(posted=form, status=400)


def _site_run_by_viewer(site_id: int):
    """The site, if the viewer runs it (forbidden before any form is read, else)."""
    site = site_service.get_site(site_id)
    teams.ensure_runs_site(actor=current_user, site=site)
    return site


@bp.post("/desk/sites/<int:site_id>/routing")
@lead_required
def update_routing(site_id: int):
    """Change a site's routing mode, cap and requeue-on-offline."""
    site = _site_run_by_viewer(site_id)
    form = RoutingForm(prefix=f"r{site.id}")
    return _submit(
        form,
        lambda: desk_settings.update_routing(actor=current_user, site=site, routing=form.routing.data,
                                             agent_cap=form.agent_cap.data,
                                             requeue_on_offline=form.requeue_on_offline.data),
        _("Routing of %(name)s saved.", name=site.name), f"site-{site.id}",
    )


@bp.post("/desk/sites/<int:site_id>/hours")
@lead_required
def update_hours(site_id: int):
    """Change a site's time zone, weekly schedule (or always open) and holidays."""
    site = _site_run_by_viewer(site_id)
    form = HoursForm(prefix=f"h{site.id}")

    def save() -> object:
        schedule = None if form.always_open.data else {
            str(day): hours.parse_periods_text(field.data or "") for day, field in enumerate(form.day_fields())
        }
        holidays = hours.parse_holidays_text(form.holidays.data or "")
        return desk_settings.update_hours(actor=current_user, site=site, timezone=form.timezone.data,
                                          schedule=schedule, holidays=holidays)

    return _submit(form, save, _("Business hours of %(name)s saved.", name=site.name), f"site-{site.id}")


@bp.post("/desk/agents/<int:user_id>/cap")
@lead_required
def update_cap(user_id: int):
    """Change one agent's own cap."""
    agent = accounts.get_user(user_id)
    teams.ensure_leads_agent(actor=current_user, agent=agent)
    form = CapForm(prefix=f"a{agent.id}")
    return _submit(form, lambda: desk_settings.set_agent_cap(actor=current_user, agent=agent, cap=form.cap.data),
                   _("The cap of %(name)s saved.", name=agent.display_name), "agents")


@bp.get("/demo")
def demo():
    """A pretend customer website with the widget on it, for anyone trying chatapp."""
    site = site_service.get_site_by_key(request.args["site"]) if request.args.get("site") else site_service.demo_site()
    snippet = site_service.embed_snippet(site=site, app_url=request.host_url) if site else None
    return render_template("support/demo.html", site=site, snippet=snippet)
