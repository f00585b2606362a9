"""Where the translation catalogues live, and compiling them at start-up (chatapp/i18n.py and js_i18n.py both do)."""
from __future__ import annotations

import os

TRANSLATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "translations")


def compile_catalogues(source: str, target: str, domain: str = "messages") -> None:
    """Compile each source/<lang>/LC_MESSAGES/<domain>.po into target/ when missing or older.

    A fresh clone has no .mo files: they are built here, at start-up. The compiled copy goes
    under Babel's full name for the locale ("zh_Hans_CN" for zh_CN), the name its lookup asks for.
    """
    from babel import Locale
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for language in sorted(os.listdir(source)) if os.path.isdir(source) else ():
        po_path = os.path.join(source, language, "LC_MESSAGES", f"{domain}.po")
        if not os.path.exists(po_path):
            continue
        mo_dir = os.path.join(target, str(Locale.parse(language)), "LC_MESSAGES")
        mo_path = os.path.join(mo_dir, f"{domain}.mo")
        if os.path.exists(mo_path) and os.path.getmtime(mo_path) >= os.path.getmtime(po_path):
            continue
        with open(po_path, "rb") as po_file:
            catalog = read_po(po_file, locale=language)
        os.makedirs(mo_dir, exist_ok=True)
        temporary = f"{mo_path}.{os.getpid()}.tmp"
        with open(temporary, "wb") as mo_file:
            write_mo(mo_file, catalog)
        os.replace(temporary, mo_path)  # atomic: several processes may start at once
