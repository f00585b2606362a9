"""Views of the admin blueprint."""
from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..rooms.class_list import render_sheet
from ..services import accounts, class_lists, direct
from ..services.errors import ServiceError
from .blueprint import bp
from .forms import ROLE_NAMES, ActiveForm, CreateUserForm, RoleForm


def admin_required(view):
    """Only admins pass; everyone else gets 403."""

    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def flash_form_errors(form) -> None:
    """Flash every error a form's own validators found, to show at the top of the page."""
    for errors in form.errors.values():
        for message in errors:
            flash(message, "error")


@bp.get("/direct")
@admin_required
def direct_rooms():
    """Every direct conversation, newest activity first: admins see everything, and read these from here."""
    page = request.args.get("page", 1, type=int)
    overviews, more = direct.list_direct_rooms(viewer=current_user, page=page)
    return render_template("admin/direct.html", overviews=overviews, page=max(1, page), more=more)


@bp.get("/users")
@admin_required
def users():
    """List every account with forms to change it."""
    return render_template(
        "admin/users.html",
        users=accounts.list_users(actor=current_user),
        form=CreateUserForm(),
        role_form=RoleForm(),
        active_form=ActiveForm(),
    )


@bp.post("/users")
@admin_required
def create_user():
    """Create an account (staff by default)."""
    form = CreateUserForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_account(
                actor=current_user,
                username=form.username.data,
                password=form.password.data,
                role=form.role.data,
                display_name=form.display_name.data or None,
            )
        except ServiceError as error:
            flash(error.message, "error")
        else:
            flash(_("Account %(username)s created as %(role)s.", username=user.username, role=ROLE_NAMES[user.role]),
                  "success")
            return redirect(url_for("admin.users"))
    else:
        flash_form_errors(form)
    return render_template(
        "admin/users.html",
        users=accounts.list_users(actor=current_user),
        form=form,
        role_form=RoleForm(),
        active_form=ActiveForm(),
    ), 400


@bp.post("/users/<int:user_id>/role")
@admin_required
def change_role(user_id: int):
    """Change an account's role."""
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        user = accounts.set_role(actor=current_user, user=accounts.get_user(user_id), role=form.role.data)
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(_("%(username)s is now %(role)s.", username=user.username, role=ROLE_NAMES[user.role]), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/active")
@admin_required
def toggle_active(user_id: int):
    """Deactivate an active account (closing its sockets) or reactivate an inactive one."""
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400)
    target = accounts.get_user(user_id)
    try:
        user = accounts.set_active(actor=current_user, user=target, active=not target.is_active_account)
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(_("%(username)s is active.", username=user.username) if user.is_active_account
              else _("%(username)s is deactivated.", username=user.username), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/sign-in-code")
@admin_required
def issue_code(user_id: int):
    """A one-time sign-in code for any account (a lost password): shown once, on a slip."""
    form = ActiveForm()  # only its CSRF token
    if not form.validate_on_submit():
        abort(400)
    target = accounts.get_user(user_id)
    code, expires_at = class_lists.issue_sign_in_code(actor=current_user, user=target)
    return render_sheet(room=None, rows=[(target.display_name, target.username, code)], expires_at=expires_at)
