"""Languages: the locale of each request (account, switcher cookie, browser), the switcher, the catalogues."""
from __future__ import annotations

import os

from flask import Blueprint, Flask, has_request_context, redirect, request, session
from flask_babel import format_datetime
from flask_login import current_user
from sqlalchemy.orm.exc import DetachedInstanceError
from wtforms.fields.choices import SelectChoice

from .catalogues import TRANSLATIONS_DIR, compile_catalogues
from .extensions import babel
from .js_i18n import init_js_i18n
from .realtime.channels import VISITOR_SESSION_KEY
from .redirects import back_remembering, safe_next
from .services import preferences
from .services.preferences import LANGUAGE_NAMES, LANGUAGES

DEFAULT_LOCALE = "en"
LANG_COOKIE = "lang"

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The account's setting, else the switcher's cookie, else the browser's Accept-Language, else English.

    Socket events run in their handshake's request, so they speak the handshake's language. Outside
    any request (CLI commands, background tasks) it is English.
    """
    if not has_request_context():
        return DEFAULT_LOCALE
    own = own_language()
    if own is not None:
        return own
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LOCALE


def own_language() -> str | None:
    """The logged-in account's language setting; for a widget visitor's socket, its site's language."""
    visitor_id = session.get(VISITOR_SESSION_KEY)  # set only in a widget socket's own session
    if visitor_id is not None:
        return preferences.visitor_language(visitor_id)
    try:
        if current_user.is_authenticated and current_user.language in LANGUAGES:
            return current_user.language
    except DetachedInstanceError:  # the session was closed under this request (a socket disconnected inline)
        pass
    return None


def language_choices(automatic: str) -> list[SelectChoice]:
    """The choices of a language select: "" labelled automatic, then each language in its own name."""
    return [SelectChoice("", automatic)] + [
        SelectChoice(code, name, render_kw={"lang": LANGUAGES[code]}) for code, name in LANGUAGE_NAMES.items()
    ]


def html_lang() -> str:
    """The current locale as an <html lang> value."""
    from flask_babel import get_locale

    locale = get_locale()
    if locale is None:
        return DEFAULT_LOCALE
    # str() of a parsed zh_CN is "zh_Hans_CN": compare language and territory only.
    return LANGUAGES.get(
        f"{locale.language}_{locale.territory}" if locale.territory else locale.language, DEFAULT_LOCALE
    )


@bp.post("/lang")
def set_language():
    """Remember the chosen language in a cookie (and in a logged-in account) and go back to the page."""
    language = request.form.get("lang")
    if language not in LANGUAGES:
        return redirect(safe_next(request.form.get("next")))
    if current_user.is_authenticated and not current_user.is_visitor:
        preferences.set_language(user=current_user._get_current_object(), language=language)
    return back_remembering(cookie=LANG_COOKIE, value=language)


def init_i18n(app: Flask) -> None:
    """Compile the catalogues (into instance/translations), bind Flask-Babel and register the switcher."""
    compiled = os.path.join(app.instance_path, "translations")
    compile_catalogues(TRANSLATIONS_DIR, compiled)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", compiled)
    babel.init_app(app, locale_selector=select_locale)
    # format_datetime: a UTC time in the page's language ("3 Dec 2026, 13:05:00" / "2026年12月3日 13:05:00").
    app.jinja_env.globals.update(html_lang=html_lang, LANGUAGE_NAMES=LANGUAGE_NAMES, format_datetime=format_datetime)
    app.register_blueprint(bp)
    init_js_i18n(app, compiled)  # the scripts' catalogue (domain "js"), compiled the same way
