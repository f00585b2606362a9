"""The admin's pages for widget sites: list, register, change."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..services import sites as site_service
from ..services.errors import ServiceError
from .blueprint import bp
from .forms import SiteForm
from .routes import admin_required, flash_form_errors
from .teams import site_team_form


def _site_arguments(form: SiteForm) -> dict:
    return {
        "name": form.name.data,
        "origins": (form.origins.data or "").split(),
        "identity_secret": form.identity_secret.data,
        "prechat_enabled": form.prechat_enabled.data,
        "prechat_name_required": form.prechat_name_required.data,
        "prechat_email_required": form.prechat_email_required.data,
        "language": form.language.data,
        "transcript_on_resolve": form.transcript_on_resolve.data,
    }


@bp.get("/sites")
@admin_required
def sites():
    """Every widget site, with a form to register another."""
    return render_template(
        "admin/sites.html", sites=site_service.list_sites(actor=current_user), form=SiteForm(prefix="new")
    )


@bp.post("/sites")
@admin_required
def create_site():
    """Register a site and show its embed snippet."""
    form = SiteForm(prefix="new")
    if form.validate_on_submit():
        try:
            site = site_service.create_site(actor=current_user, **_site_arguments(form))
        except ServiceError as error:
            flash(error.message, "error")
        else:
            flash(_("Site %(name)s registered. Put the snippet below on its pages.", name=site.name), "success")
            return redirect(url_for("admin.edit_site", site_id=site.id))
    else:
        flash_form_errors(form)
    return render_template("admin/sites.html", sites=site_service.list_sites(actor=current_user), form=form), 400


def _edit_page(site, form: SiteForm, status: int = 200):
    snippet = site_service.embed_snippet(site=site, app_url=request.host_url)
    return render_template("admin/site.html", site=site, form=form, snippet=snippet,
                           suggested_secret=site_service.new_identity_secret(), team_form=site_team_form(site)), status


@bp.get("/sites/<int:site_id>")
@admin_required
def edit_site(site_id: int):
    """A site's settings and its embed snippet."""
    site = site_service.get_site(site_id)
    form = SiteForm(prefix="site", obj=site)
    form.origins.data = "\n".join(site.origins)
    return _edit_page(site, form)


@bp.post("/sites/<int:site_id>")
@admin_required
def update_site(site_id: int):
    """Change a site's settings."""
    site = site_service.get_site(site_id)
    form = SiteForm(prefix="site")
    if form.validate_on_submit():
        try:
            site_service.update_site(actor=current_user, site=site, **_site_arguments(form))
        except ServiceError as error:
            flash(error.message, "error")
        else:
            flash(_("Site %(name)s saved.", name=site.name), "success")
            return redirect(url_for("admin.edit_site", site_id=site.id))
    else:
        flash_form_errors(form)
    return _edit_page(site, form, 400)
