"""Views of the auth blueprint."""
from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required, login_user, logout_user

from ..admin.forms import ButtonForm
from ..redirects import safe_next
from ..services import accounts, api_tokens, class_lists, preferences
from ..services.errors import ServiceError
from .blueprint import bp
from .forms import AccountForm, FirstSignInForm, LoginForm, RegisterForm, TokenForm


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
    user = _account_holder()
    form = AccountForm(obj=user)
    if not form.is_submitted():
        form.language.data = user.language or ""
    if form.validate_on_submit():
        topics = preferences.mail_topics(user)
        try:
            preferences.update_settings(
                user=user, display_name=form.display_name.data, language=form.language.data,
                email=form.email.data or "", mail={topic: bool(form[f"mail_{topic}"].data) for topic in topics},
                share_reads=bool(form.share_reads.data),
            )
        except ServiceError as error:
            fields = {"language": form.language, "email": form.email}
            field = fields.get(str(error.extra.get("field")), form.display_name)
            field.errors = [*field.errors, error.message]
        else:
            refresh()  # say it in the language just chosen
            flash(_("Your settings are saved."), "success")
            return redirect(url_for("auth.account"))
    return _account_page(user, form=form, status=400 if form.is_submitted() else 200)


def _account_holder():
    """The logged-in account (a widget visitor has no account page)."""
    user = current_user._get_current_object()
    if user.is_visitor:
        abort(404)
    return user


def _account_page(user, *, form: AccountForm | None = None, token_form: TokenForm | None = None,
                  new_secret: str | None = None, status: int = 200):
    """The account page; with new_secret, the token just made, shown this once (and never stored by a cache)."""
    if form is None:
        form = AccountForm(obj=user, formdata=None)
        form.language.data = user.language or ""
    return secret_page(render_template(
        "auth/account.html", form=form, token_form=token_form or TokenForm(formdata=None).for_owner(user),
        mail_topics=preferences.mail_topics(user),
        tokens=api_tokens.list_tokens(user=user), new_secret=new_secret,
    ), status, shows_secret=new_secret is not None)


def secret_page(html: str, status: int, *, shows_secret: bool):
    """A page response; one that shows a token's secret is never kept by a cache (nor the browser's back button)."""
    response = make_response(html, status)
    if shows_secret:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/tokens")
@login_required
def create_token():
    """Make an access token; the page shows its secret this once."""
    user = _account_holder()
    token_form = TokenForm().for_owner(user)
    if token_form.validate_on_submit():
        try:
            issued = api_tokens.create_token(user=user, name=token_form.name.data, scopes=token_form.scopes.data,
                                             expires_in_days=token_form.days())
        except ServiceError as error:
            token_form.scopes.errors = [*token_form.scopes.errors, error.message]
        else:
            return _account_page(user, new_secret=issued.secret, status=201)
    return _account_page(user, token_form=token_form, status=400)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of one's tokens at once."""
    user = _account_holder()
    if not ButtonForm().validate_on_submit():
        abort(400)
    token = api_tokens.revoke_token(actor=user, token_id=token_id)  # another's: forbidden, as a page
    flash(_("The token %(name)s is revoked; requests with it are refused from now on.", name=token.name), "success")
    return redirect(url_for("auth.account"))
