"""The admin's pages for webhooks: register, change, turn off and on, rotate the secret, test, read the log."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..services import outbox
from ..services import sites as site_service
from ..services import webhooks as webhook_service
from ..services.errors import ServiceError
from .blueprint import bp
from .forms import ButtonForm, WebhookForm
from .routes import admin_required, flash_form_errors


def _form(hook=None, **kwargs) -> WebhookForm:
    form = WebhookForm(obj=hook, **kwargs)
    form.site_id.choices = [(0, _("The whole server (every site and room)"))] + [
        (site.id, _("Site %(name)s", name=site.name)) for site in site_service.list_sites(actor=current_user)
    ]
    if hook is not None and not form.is_submitted():
        form.site_id.data = hook.site_id or 0
    return form


def _refused(form: WebhookForm, error: ServiceError) -> None:
    field = getattr(form, str(error.extra.get("field") or "url"), form.url)
    field.errors = [*field.errors, error.message]
    flash(error.message, "error")


def _arguments(form: WebhookForm) -> dict:
    return {"url": form.url.data, "events": form.events.data or [], "site_id": form.site_id.data or None}


@bp.get("/webhooks")
@admin_required
def webhooks():
    """Every webhook, with a form to register another."""
    return _list_page(_form(prefix="new"))


def _list_page(form: WebhookForm, status: int = 200):
    return render_template("admin/webhooks.html", hooks=webhook_service.list_webhooks(actor=current_user),
                           form=form, events=webhook_service.EVENTS), status


@bp.post("/webhooks")
@admin_required
def create_webhook():
    """Register a webhook; its page then shows its secret."""
    form = _form(prefix="new")
    if form.validate_on_submit():
        try:
            hook = webhook_service.create_webhook(actor=current_user, **_arguments(form))
        except ServiceError as error:
            _refused(form, error)
        else:
            flash(_("Webhook registered. Give its secret to the receiver, so that it can check each call."), "success")
            return redirect(url_for("admin.webhook", webhook_id=hook.id))
    else:
        flash_form_errors(form)
    return _list_page(form, 400)


def _hook(webhook_id: int):
    try:
        return webhook_service.get_webhook(actor=current_user, webhook_id=webhook_id)
    except ServiceError:
        abort(404)


def _page(hook, form: WebhookForm, status: int = 200):
    tries, waiting = webhook_service.delivery_log(actor=current_user, hook=hook)
    return render_template("admin/webhook.html", hook=hook, form=form, tries=tries, waiting=waiting,
                           events=webhook_service.EVENTS, button=ButtonForm(),
                           kind_title=outbox.kind_title), status


@bp.get("/webhooks/<int:webhook_id>")
@admin_required
def webhook(webhook_id: int):
    """One webhook: its settings, secret, and its log of calls."""
    hook = _hook(webhook_id)
    return _page(hook, _form(hook))


@bp.post("/webhooks/<int:webhook_id>")
@admin_required
def update_webhook(webhook_id: int):
    hook = _hook(webhook_id)
    form = _form(hook)
    if form.validate_on_submit():
        try:
            webhook_service.update_webhook(actor=current_user, hook=hook, **_arguments(form))
        except ServiceError as error:
            _refused(form, error)
        else:
            flash(_("Webhook saved."), "success")
            return redirect(url_for("admin.webhook", webhook_id=hook.id))
    else:
        flash_form_errors(form)
    return _page(hook, form, 400)


def _button(webhook_id: int, action, done: str):
    hook = _hook(webhook_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        action(hook)
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(done, "success")
    return redirect(url_for("admin.webhook", webhook_id=webhook_id))


@bp.post("/webhooks/<int:webhook_id>/enable")
@admin_required
def enable_webhook(webhook_id: int):
    return _button(webhook_id, lambda hook: webhook_service.set_enabled(actor=current_user, hook=hook, enabled=True),
                   _("Webhook turned on."))


@bp.post("/webhooks/<int:webhook_id>/disable")
@admin_required
def disable_webhook(webhook_id: int):
    return _button(webhook_id, lambda hook: webhook_service.set_enabled(actor=current_user, hook=hook, enabled=False),
                   _("Webhook turned off: nothing more is sent to it."))


@bp.post("/webhooks/<int:webhook_id>/rotate")
@admin_required
def rotate_webhook_secret(webhook_id: int):
    return _button(webhook_id, lambda hook: webhook_service.rotate_secret(actor=current_user, hook=hook),
                   _("New secret made. Give it to the receiver: calls from now on are signed with it."))


@bp.post("/webhooks/<int:webhook_id>/ping")
@admin_required
def ping_webhook(webhook_id: int):
    return _button(webhook_id, lambda hook: webhook_service.send_ping(actor=current_user, hook=hook),
                   _("A test call (ping) is on its way; its result appears below in a moment."))


@bp.post("/webhooks/<int:webhook_id>/delete")
@admin_required
def delete_webhook(webhook_id: int):
    hook = _hook(webhook_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    webhook_service.delete_webhook(actor=current_user, hook=hook)
    flash(_("Webhook deleted."), "success")
    return redirect(url_for("admin.webhooks"))
