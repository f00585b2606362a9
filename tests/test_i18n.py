"""Languages: the Chinese catalogue is complete and current; the locale follows the switcher, then the browser."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from harness.forms import CSRF_RE

ROOT = Path(__file__).resolve().parent.parent
ZH_PO = ROOT / "chatapp" / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po"


def _catalogue(path: Path):
    with path.open("rb") as handle:
        return read_po(handle, locale="zh_CN")


def test_every_message_id_has_a_chinese_translation():
    """A msgid without a (non-fuzzy) msgstr fails here: Chinese users would see English."""
    untranslated = [m.id for m in _catalogue(ZH_PO) if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []


def test_catalogue_is_up_to_date_with_the_sources(tmp_path):
    """Every string marked in the templates and the code is in the catalogue (run pybabel update if not)."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "lazy_gettext", "-k", "_l", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as handle:
        extracted = {m.id for m in read_po(handle) if m.id}
    known = {m.id for m in _catalogue(ZH_PO) if m.id}
    assert extracted, "the extractor found no strings"
    assert sorted(extracted - known) == []


def test_login_page_follows_accept_language(client):
    """A browser asking for Chinese gets the login page in Chinese, marked lang="zh-CN"."""
    page = client.get("/auth/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "登录" in page and "用户名" in page and "密码" in page
    assert ">Log in<" not in page


def test_english_is_the_default(client):
    """No preference, or one we do not speak: English."""
    for headers in ({}, {"Accept-Language": "fr-FR,fr;q=0.9"}):
        page = client.get("/auth/login", headers=headers).get_data(as_text=True)
        assert '<html lang="en">' in page
        assert "Username" in page and "用户名" not in page


def test_switcher_sets_the_cookie_and_beats_accept_language(client):
    """Choosing English in the top bar wins over a Chinese browser, and back again."""
    chinese = {"Accept-Language": "zh-CN"}
    page = client.get("/auth/login", headers=chinese).get_data(as_text=True)
    token = next(group for match in CSRF_RE.finditer(page) for group in match.groups() if group)
    response = client.post("/lang", data={"lang": "en", "next": "/auth/login", "csrf_token": token}, headers=chinese)
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/login")
    assert "lang=en" in response.headers["Set-Cookie"]
    page = client.get("/auth/login", headers=chinese).get_data(as_text=True)
    assert '<html lang="en">' in page and "Username" in page

    client.post("/lang", data={"lang": "zh_CN", "next": "/auth/login", "csrf_token": token})
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "用户名" in page


def test_switcher_refuses_other_sites_and_unknown_languages(client):
    """`next` must be a path on this site; an unknown language changes nothing."""
    page = client.get("/auth/login").get_data(as_text=True)
    token = next(group for match in CSRF_RE.finditer(page) for group in match.groups() if group)
    response = client.post("/lang", data={"lang": "xx", "next": "https://evil.example/", "csrf_token": token})
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]
    assert "Set-Cookie" not in response.headers or "lang=" not in response.headers["Set-Cookie"]


def test_switcher_needs_the_csrf_token(client):
    """A cross-site form cannot change someone's language."""
    response = client.post("/lang", data={"lang": "zh_CN", "next": "/auth/login"})
    assert response.status_code == 400


def test_room_page_in_chinese(client, auth, users, public_room):
    """The room page, its accessible names included, speaks Chinese to a Chinese browser."""
    auth.login()
    page = client.get(f"/rooms/{public_room.slug}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert ">发送</button>" in page and 'aria-label="消息"' in page and "成员" in page


# ---- the browser scripts' catalogue (domain "js": chatapp/js_i18n.py, static/js/i18n.js) ------

JS_PO = ROOT / "chatapp" / "translations" / "zh_CN" / "LC_MESSAGES" / "js.po"
JS_KEYWORDS = ["--no-default-keywords", "-k", "_", "-k", "ngettext:1,2", "-k", "pgettext:1c,2"]  # as the Makefile's


def _key(message) -> tuple:
    """A catalogue entry's identity: its context and its msgid (the singular, for plurals)."""
    return message.context, message.id[0] if isinstance(message.id, (list, tuple)) else message.id


def test_every_script_message_id_has_a_chinese_translation():
    """A string the scripts show without a (non-fuzzy) Chinese msgstr fails here."""
    untranslated = [
        _key(m) for m in _catalogue(JS_PO)
        if m.id and (m.fuzzy or not (all(m.string) if isinstance(m.string, (list, tuple)) else m.string))
    ]
    assert untranslated == []


def test_script_catalogue_is_up_to_date_with_the_scripts(tmp_path):
    """Every _()/ngettext()/pgettext() string in chatapp/static/js is in js.po (`make translations` if not)."""
    pot = tmp_path / "js.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel-js.cfg",
            *JS_KEYWORDS,
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        extracted = {_key(m) for m in read_po(handle) if m.id}
    known = {_key(m) for m in _catalogue(JS_PO) if m.id}
    assert len(extracted) > 100, "the extractor found (almost) no strings in the scripts"
    assert sorted(extracted - known, key=str) == []


def test_scripts_mark_no_strings_inside_template_literals():
    """Babel's extractor does not look inside `${…}`: a _() there would never be translated."""
    hidden = [
        f"{path.name}:{number}"
        for path in sorted((ROOT / "chatapp" / "static" / "js").glob("*.js"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\$\{\s*(?:_|ngettext|pgettext)\(", line)
    ]
    assert hidden == []


def _embedded_catalogue(page: str):
    match = re.search(r'<script type="application/json" id="i18n-catalogue">(.*?)</script>', page, re.S)
    return json.loads(match.group(1)) if match else None


def test_a_chinese_page_embeds_the_chinese_script_catalogue(client):
    """The scripts' words come with the page, as data (no inline script: the CSP forbids it)."""
    page = client.get("/auth/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    catalogue = _embedded_catalogue(page)
    assert catalogue is not None
    assert catalogue["nplurals"] == 1
    assert catalogue["messages"]["Sending…"] == "正在发送…"
    assert catalogue["messages"]["{name} is typing…"] == "{name} 正在输入…"
    assert catalogue["messages"]["conversation status\x04Open"] == "待处理"  # pgettext's key
    assert catalogue["messages"]["unread message"] == ["条未读消息"]  # plural forms: Chinese has one


def test_an_english_page_embeds_no_script_catalogue(client):
    """English is the msgids themselves: nothing to send."""
    page = client.get("/auth/login").get_data(as_text=True)
    assert _embedded_catalogue(page) is None and "i18n-catalogue" not in page


def test_the_embedded_catalogue_cannot_end_its_script_block(client, app):
    """A translation holding "</script>" stays data: Jinja's tojson escapes <, > and &."""
    app.extensions["js_catalogues"]["zh_Hans_CN"]["messages"]["Sent"] = "</script><script>alert(1)</script>"
    page = client.get("/auth/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert _embedded_catalogue(page)["messages"]["Sent"] == "</script><script>alert(1)</script>"
