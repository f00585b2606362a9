"""Languages: the locale of each request, the switcher's cookie, and the compiled catalogues."""
from __future__ import annotations

import os

from flask import Blueprint, Flask, redirect, request

from .extensions import babel
from .redirects import safe_next

# Locale ids as Babel names them, and the <html lang> tag (BCP 47) of each.
LANGUAGES = {"en": "en", "zh_CN": "zh-CN"}
LANGUAGE_NAMES = {"en": "English", "zh_CN": "简体中文"}
DEFAULT_LOCALE = "en"
LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
TRANSLATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "translations")

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The user's choice (the switcher's cookie), else the browser's Accept-Language, else English."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LOCALE


def html_lang() -> str:
    """The current locale as an <html lang> value."""
    from flask_babel import get_locale

    locale = get_locale()
    if locale is None:
        return DEFAULT_LOCALE
    # str() of a parsed zh_CN is "zh_Hans_CN": compare language and territory only.
    return LANGUAGES.get(f"{locale.language}_{locale.territory}" if locale.territory else locale.language, DEFAULT_LOCALE)


@bp.post("/lang")
def set_language():
    """Remember the chosen language in a cookie and go back to the page it was chosen on."""
    response = redirect(safe_next(request.form.get("next")))
    language = request.form.get("lang")
    if language in LANGUAGES:
        response.set_cookie(LANG_COOKIE, language, max_age=LANG_COOKIE_MAX_AGE, samesite="Lax", httponly=True,
                            secure=request.is_secure)
    return response


def compile_catalogues(source: str, target: str) -> None:
    """Compile each source/<lang>/LC_MESSAGES/messages.po into target/ when missing or older.

    A fresh clone has no .mo files: they are built here, at start-up. The compiled copy goes
    under Babel's full name for the locale ("zh_Hans_CN" for zh_CN), the name its lookup asks for.
    """
    from babel import Locale
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for language in sorted(os.listdir(source)) if os.path.isdir(source) else ():
        po_path = os.path.join(source, language, "LC_MESSAGES", "messages.po")
        if not os.path.exists(po_path):
            continue
        mo_dir = os.path.join(target, str(Locale.parse(language)), "LC_MESSAGES")
        mo_path = os.path.join(mo_dir, "messages.mo")
        if os.path.exists(mo_path) and os.path.getmtime(mo_path) >= os.path.getmtime(po_path):
            continue
        with open(po_path, "rb") as po_file:
            catalog = read_po(po_file, locale=language)
        os.makedirs(mo_dir, exist_ok=True)
        temporary = f"{mo_path}.{os.getpid()}.tmp"
        with open(temporary, "wb") as mo_file:
            write_mo(mo_file, catalog)
        os.replace(temporary, mo_path)  # atomic: several processes may start at once


def init_i18n(app: Flask) -> None:
    """Compile the catalogues (into instance/translations), bind Flask-Babel and register the switcher."""
    compiled = os.path.join(app.instance_path, "translations")
    compile_catalogues(TRANSLATIONS_DIR, compiled)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", compiled)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(html_lang=html_lang, LANGUAGE_NAMES=LANGUAGE_NAMES)
    app.register_blueprint(bp)
