"""The admin's page for the labels agents put on conversations: list, add, rename, recolour, delete."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..services import labels as label_service
from ..services.errors import ServiceError
from .blueprint import bp
from .forms import DeleteForm, LabelForm
from .routes import admin_required, flash_form_errors


def _page(new_form: LabelForm, status: int = 200, edited: tuple[int, LabelForm] | None = None):
    items = label_service.list_labels(viewer=current_user)
    edit_forms = {item.id: LabelForm(prefix=f"l{item.id}", obj=item) for item in items}
    if edited is not None:
        edit_forms[edited[0]] = edited[1]  # the one just refused keeps what the admin typed, and its error
    return render_template(
        "admin/labels.html", items=items, new_form=new_form, edit_forms=edit_forms, delete_form=DeleteForm(),
        palette=label_service.PALETTE, max_name_length=label_service.MAX_LABEL_NAME_LENGTH,
    ), status


def _refused(form: LabelForm, error: ServiceError) -> None:
    field = form.colour if error.extra.get("field") == "colour" else form.name
    field.errors = [*field.errors, error.message]
    flash(error.message, "error")


@bp.get("/labels")
@admin_required
def labels():
    """Every label, with forms to add, rename, recolour and delete them."""
    return _page(LabelForm(prefix="new"))


@bp.post("/labels")
@admin_required
def create_label():
    """Add a label."""
    form = LabelForm(prefix="new")
    if form.validate_on_submit():
        try:
            label = label_service.save_label(actor=current_user, name=form.name.data, colour=form.colour.data)
        except ServiceError as error:
            _refused(form, error)
        else:
            flash(_("Label %(name)s added.", name=label.name), "success")
            return redirect(url_for("admin.labels"))
    else:
        flash_form_errors(form)
    return _page(form, 400)


@bp.post("/labels/<int:label_id>")
@admin_required
def update_label(label_id: int):
    """Rename or recolour a label."""
    label = label_service.get_label(label_id)
    form = LabelForm(prefix=f"l{label_id}")
    if form.validate_on_submit():
        try:
            label_service.save_label(actor=current_user, name=form.name.data, colour=form.colour.data, label=label)
        except ServiceError as error:
            _refused(form, error)
        else:
            flash(_("Label %(name)s saved.", name=label.name), "success")
            return redirect(url_for("admin.labels"))
    else:
        flash_form_errors(form)
    return _page(LabelForm(prefix="new"), 400, edited=(label_id, form))


@bp.post("/labels/<int:label_id>/delete")
@admin_required
def delete_label(label_id: int):
    """Delete a label (it comes off every conversation)."""
    label = label_service.get_label(label_id)
    if not DeleteForm().validate_on_submit():
        abort(400)
    name = label.name
    label_service.delete_label(actor=current_user, label=label)
    flash(_("Label %(name)s deleted; it is off every conversation.", name=name), "success")
    return redirect(url_for("admin.labels"))
