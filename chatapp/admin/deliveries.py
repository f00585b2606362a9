"""The admin's page of deliveries: the outbox's e-mails and webhook calls waiting, being sent, failed, or sent."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..services import outbox
from ..services.errors import ServiceError
from .blueprint import bp
from .forms import ButtonForm
from .routes import admin_required


@bp.get("/deliveries")
@admin_required
def deliveries():
    """Deliveries of one state (by default every one not sent yet), newest first, with "retry now"."""
    state = request.args.get("state") or None
    try:
        jobs = outbox.list_jobs(actor=current_user, state=state)
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(url_for("admin.deliveries"))
    return render_template(
        "admin/deliveries.html", jobs=jobs, state=state, counts=outbox.counts(actor=current_user),
        kind_title=outbox.kind_title, retry_form=ButtonForm(),
    )


@bp.post("/deliveries/<int:job_id>/retry")
@admin_required
def retry_delivery(job_id: int):
    """Send a waiting or failed delivery now (a failed one gets all its tries again)."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        outbox.retry_now(actor=current_user, job_id=job_id)
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(_("Delivery %(id)d will be sent again in a moment.", id=job_id), "success")
    return redirect(url_for("admin.deliveries", state=request.form.get("state") or None))
