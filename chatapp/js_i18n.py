"""The browser scripts' words: the `js` gettext domain, compiled at start, embedded in each page as data.

translations/<lang>/LC_MESSAGES/js.po holds what chatapp/static/js/*.js shows (extracted with
babel-js.cfg); each page gets its locale's catalogue in a <script type="application/json"
id="i18n-catalogue"> block (templates/_i18n_catalogue.html), which static/js/i18n.js reads.
"""
from __future__ import annotations

import os

from flask import Flask, current_app

from .catalogues import TRANSLATIONS_DIR, compile_catalogues

JS_DOMAIN = "js"


def load_js_catalogue(mo_path: str) -> dict:
    """A compiled js catalogue as the scripts read it: {"nplurals": n, "messages": {msgid: text or [forms]}}."""
    from babel.messages.mofile import read_mo

    with open(mo_path, "rb") as mo_file:
        catalog = read_mo(mo_file)
    messages: dict[str, str | list[str]] = {}
    for message in catalog:
        if not message.id or not message.string:
            continue
        key = message.id[0] if isinstance(message.id, (list, tuple)) else message.id  # plurals: by the singular
        if message.context:
            key = f"{message.context}\x04{key}"  # as pgettext() looks it up
        messages[key] = list(message.string) if isinstance(message.string, (list, tuple)) else message.string
    return {"nplurals": catalog.num_plurals, "messages": messages}


def js_catalogue() -> dict | None:
    """The current locale's js catalogue (None for English, whose texts are the msgids themselves)."""
    from flask_babel import get_locale

    locale = get_locale()
    return current_app.extensions["js_catalogues"].get(str(locale)) if locale is not None else None


def init_js_i18n(app: Flask, compiled: str) -> None:
    """Compile every js.po into compiled/ (as messages.po is), load them, and offer js_catalogue() to templates."""
    compile_catalogues(TRANSLATIONS_DIR, compiled, domain=JS_DOMAIN)
    catalogues = {}
    for locale in sorted(os.listdir(compiled)) if os.path.isdir(compiled) else ():
        mo_path = os.path.join(compiled, locale, "LC_MESSAGES", f"{JS_DOMAIN}.mo")
        if os.path.exists(mo_path):
            catalogues[locale] = load_js_catalogue(mo_path)
    app.extensions["js_catalogues"] = catalogues
    app.jinja_env.globals.update(js_catalogue=js_catalogue)
