"""Languages: the Chinese catalogue is complete and current; the locale follows the switcher, then the browser."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from .conftest import CSRF_RE

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
    assert ">发送</button>" in page and 'aria-label="消息列表"' in page and "成员" in page
