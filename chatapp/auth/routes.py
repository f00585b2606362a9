"""Views of the auth blueprint."""
from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required, login_user, logout_user

from ..redirects import safe_next
from ..services import accounts, class_lists, preferences
from ..services.errors import ServiceError
from .blueprint import bp
from .forms import AccountForm, FirstSignInForm, LoginForm, RegisterForm


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; log in on a good POST (guessing is slowed per account, never per class)."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.log_in(username=form.username.data, password=form.password.data,
                                   address=request.remote_addr)
        except ServiceError as error:
            return _refused("auth/login.html", form, error)
        login_user(user)
        return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


def _refused(template: str, form, error: ServiceError):
    """The form again, with the error said above it (and when to retry, for a wait)."""
    flash(error.message, "error")
    response = make_response(render_template(template, form=form), error.http_status)
    if "retry_after" in error.extra:
        response.headers["Retry-After"] = str(error.extra["retry_after"])
    return response


@bp.route("/code", methods=["GET", "POST"])
def first_sign_in():
    """Sign in with a teacher's one-time code and choose one's own password (?username= fills it in)."""
    form = FirstSignInForm()
    if not form.is_submitted():
        form.username.data = request.args.get("username", "")[:64]
    if form.validate_on_submit():
        try:
            user = class_lists.redeem_sign_in_code(username=form.username.data, code=form.code.data,
                                                   password=form.password.data, address=request.remote_addr)
        except ServiceError as error:
            return _refused("auth/first_sign_in.html", form, error)
        login_user(user)
        flash(_("Welcome, %(name)s! From now on, log in with your username and this password.",
                name=user.display_name), "success")
        return redirect(url_for("rooms.index"))
    return render_template("auth/first_sign_in.html", form=form), 400 if form.is_submitted() else 200


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Create a member account (when registration is open) and log in."""
    if not current_app.config["ALLOW_REGISTRATION"]:
        abort(404)
    form = RegisterForm()
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            user = accounts.register_member(
                username=form.username.data,
                password=form.password.data,
                display_name=form.display_name.data or None,
                address=request.remote_addr,
            )
        except ServiceError as error:
            flash(error.message, "error")
            status = 429 if error.code == "rate_limited" else 400  # a form's own mistakes stay 400
        else:
            login_user(user)
            flash(_("Welcome, %(name)s!", name=user.display_name), "success")
            return redirect(url_for("rooms.index"))
    return render_template("auth/register.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """Log out: end every session of this account and close its open sockets."""
    user = current_user._get_current_object()
    accounts.end_sessions(user=user)
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """One's own settings: display name, language (it then follows the account everywhere), e-mail and which e-mails."""
    user = current_user._get_current_object()
    if user.is_visitor:
        abort(404)
    form = AccountForm(obj=user)
    if not form.is_submitted():
        form.language.data = user.language or ""
    if form.validate_on_submit():
        topics = preferences.mail_topics(user)
        try:
            preferences.update_settings(
                user=user, display_name=form.display_name.data, language=form.language.data,
                email=form.email.data or "", mail={topic: bool(form[f"mail_{topic}"].data) for topic in topics},
            )
        except ServiceError as error:
            fields = {"language": form.language, "email": form.email}
            field = fields.get(str(error.extra.get("field")), form.display_name)
            field.errors = [*field.errors, error.message]
        else:
            refresh()  # say it in the language just chosen
            flash(_("Your settings are saved."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, mail_topics=preferences.mail_topics(user)), (
        400 if form.is_submitted() else 200)
