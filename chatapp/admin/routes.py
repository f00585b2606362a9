"""Views of the admin blueprint."""
from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth.forms import TokenForm
from ..auth.routes import secret_page
from ..rooms.class_list import render_sheet
from ..services import accounts, api_tokens, class_lists, direct
from ..services.errors import ServiceError
from .blueprint import bp
from .forms import ROLE_NAMES, ActiveForm, CreateBotForm, CreateUserForm, RoleForm


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
    """List every account with forms to change it; make bots and give them tokens."""
    return _users_page()


def _users_page(*, form: CreateUserForm | None = None, bot_form: CreateBotForm | None = None,
                token_forms: dict[int, TokenForm] | None = None, new_secret: tuple[str, str] | None = None,
                status: int = 200):
    """The accounts page; new_secret (the bot's username, the secret) shows a bot's new token this once."""
    listed = accounts.list_users(actor=current_user)
    forms = {
        user.id: TokenForm(prefix=f"bot{user.id}", formdata=None).for_owner(user) for user in listed if user.is_bot
    }
    forms.update(token_forms or {})
    return secret_page(render_template(
        "admin/users.html", users=listed, form=form or CreateUserForm(formdata=None),
        bot_form=bot_form or CreateBotForm(prefix="bot", formdata=None), token_forms=forms, new_secret=new_secret,
        role_form=RoleForm(), active_form=ActiveForm(),
    ), status, shows_secret=new_secret is not None)


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
    return _users_page(form=form, status=400)


@bp.post("/bots")
@admin_required
def create_bot():
    """Make a bot account (it never logs in; give it a token next)."""
    bot_form = CreateBotForm(prefix="bot")
    if bot_form.validate_on_submit():
        try:
            bot = api_tokens.create_bot(actor=current_user, username=bot_form.username.data,
                                        display_name=bot_form.display_name.data or None, role=bot_form.role.data)
        except ServiceError as error:
            flash(error.message, "error")
        else:
            flash(_("Bot %(username)s created. Give it an access token with New token.", username=bot.username),
                  "success")
            return redirect(url_for("admin.users"))
    else:
        flash_form_errors(bot_form)
    return _users_page(bot_form=bot_form, status=400)


@bp.post("/bots/<int:user_id>/tokens")
@admin_required
def issue_bot_token(user_id: int):
    """A new access token for a bot; the page shows its secret this once."""
    bot = accounts.get_user(user_id)
    token_form = TokenForm(prefix=f"bot{user_id}").for_owner(bot)
    if token_form.validate_on_submit():
        try:
            issued = api_tokens.issue_bot_token(actor=current_user, bot=bot, name=token_form.name.data,
                                                scopes=token_form.scopes.data, expires_in_days=token_form.days())
        except ServiceError as error:
            flash(error.message, "error")
        else:
            return _users_page(new_secret=(bot.username, issued.secret), status=201)
    else:
        flash_form_errors(token_form)
    return _users_page(token_forms={user_id: token_form}, status=400)


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
