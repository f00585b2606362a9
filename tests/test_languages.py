"""Languages past the login page: staff pages, socket errors, the account setting, the widget's language."""
from __future__ import annotations

import sqlite3

import pytest

from chatapp import create_app
from chatapp.extensions import db
from chatapp.models import Site, User
from chatapp.services import sites, support

from .conftest import base_config, csrf_token_from, migrated_database
from .helpers import logged_in
from .pages import Page, page
from .support_fixtures import make_site, start_visitor

CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}


def language_of(app, username: str) -> str | None:
    with app.app_context():
        return db.session.scalar(db.select(User.language).filter_by(username=username))


def set_language(app, username: str, language: str | None) -> None:
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(username=username)).language = language
        db.session.commit()


# -- staff pages in Chinese ------------------------------------------------------------------------


def test_admin_pages_in_chinese(app, users):
    key = make_site(app, name="Shop")
    http = logged_in(app, "admin", CHINESE)
    accounts = http.get("/admin/users").get_data(as_text=True)
    assert '<html lang="zh-CN">' in accounts
    assert "停用 alice" in accounts and ">工作人员</option>" in accounts and "创建账户" in accounts
    assert "Deactivate" not in accounts and ">Change<" not in accounts
    listing = http.get("/admin/sites").get_data(as_text=True)
    assert "挂件网站" in listing and "登记网站" in listing and "挂件语言" in listing
    assert "Widget sites" not in listing and "Register a site" not in listing
    with app.app_context():
        site_id = db.session.scalar(db.select(Site.id).filter_by(site_key=key))
    edit = http.get(f"/admin/sites/{site_id}").get_data(as_text=True)
    assert "嵌入代码" in edit and f"网站密钥：<code>{key}</code>" in edit and "Embed snippet" not in edit


def test_console_pages_in_chinese(app, users):
    with app.app_context():
        support.save_canned(agent=db.session.get(User, users["staff"].id), shortcut="hello", body="Hi!")
    http = logged_in(app, "staff", CHINESE)
    console = page(http.get("/support"))
    assert console.find("h1").text == "对话"
    assert console.find("label", **{"for": "message-input"}).text == "消息"
    assert [o.text for o in console.find("select", id="status-filter").find_all("option")] == [
        "进行中",
        "待处理",
        "已解决",
    ]
    canned = http.get("/support/canned").get_data(as_text=True)
    assert "快捷回复" in canned and "删除 /hello" in canned and "Canned responses" not in canned
    ratings = http.get("/support/ratings").get_data(as_text=True)
    assert "还没有评分" in ratings and "No ratings yet" not in ratings
    assert "骑得更远" in http.get("/support/demo").get_data(as_text=True)


# -- socket errors in the handshake's language ------------------------------------------------------


def test_socket_error_ack_follows_the_handshake_language(socket_for, users, public_room):
    chinese = socket_for("alice", headers=CHINESE)
    english = socket_for("bob")
    refused = chinese.emit("join", {"room": "nowhere"}, callback=True)
    assert refused == {"ok": False, "error": "not_found", "message": "没有这个聊天室。"}
    assert english.emit("join", {"room": "nowhere"}, callback=True)["message"] == "There is no such room."
    # Messages with values: the placeholders are filled in the translation too.
    assert chinese.emit("join", {"room": "lobby"}, callback=True)["ok"]
    too_long = chinese.emit("send", {"room": "lobby", "body": "x" * 4001, "client_id": "c1"}, callback=True)
    assert too_long["error"] == "too_large"
    assert too_long["message"] == "消息最多 4000 个字符，这条有 4001 个。请缩短或分成几条发送。"
    bad = chinese.emit("join", "lobby", callback=True)
    assert bad["error"] == "invalid" and bad["message"].startswith("请求内容必须是包含以下字段的对象")


def test_socket_error_ack_follows_the_account_setting(app, socket_for, users):
    set_language(app, "alice", "zh_CN")
    sock = socket_for("alice", headers=ENGLISH)
    assert sock.emit("join", {"room": "nowhere"}, callback=True)["message"] == "没有这个聊天室。"


def test_visitor_socket_speaks_the_sites_language(app, users):
    from chatapp.extensions import socketio

    key = make_site(app, name="Shop", language="zh_CN")
    visitor = start_visitor(app, key)
    sock = socketio.test_client(app, auth={"visitor_token": visitor.token}, headers=ENGLISH)
    try:
        ack = sock.emit("support_rate", {"room": visitor.room, "rating": 5}, callback=True)
    finally:
        sock.disconnect()
    assert ack["error"] == "conflict" and ack["message"] == "对话解决后才能评分。"


def test_http_service_errors_are_translated_but_codes_are_not(app, users):
    http = logged_in(app, "alice", CHINESE)
    response = http.get("/api/v1/rooms/nowhere/messages")
    assert response.status_code == 404
    assert response.get_json() == {"ok": False, "error": "not_found", "message": "没有这个聊天室。"}


# -- the account's own setting ---------------------------------------------------------------------


def test_account_setting_beats_the_cookie_and_accept_language(app, users):
    http = logged_in(app, "alice")
    http.set_cookie("lang", "en")
    assert '<html lang="en">' in http.get("/", headers=CHINESE, follow_redirects=True).get_data(as_text=True)
    set_language(app, "alice", "zh_CN")
    home = http.get("/", headers=ENGLISH, follow_redirects=True).get_data(as_text=True)
    assert '<html lang="zh-CN">' in home and "我的聊天室" in home
    set_language(app, "alice", None)  # automatic again: the cookie, then the browser
    assert '<html lang="en">' in http.get("/", headers=CHINESE, follow_redirects=True).get_data(as_text=True)


def test_switcher_saves_the_setting_of_a_logged_in_user(app, users):
    http = logged_in(app, "alice")
    token = csrf_token_from(http.get("/auth/account").get_data(as_text=True))
    response = http.post("/lang", data={"lang": "zh_CN", "next": "/", "csrf_token": token})
    assert response.status_code == 302
    assert language_of(app, "alice") == "zh_CN"
    # It follows alice to another browser, whatever that one asks for.
    elsewhere = logged_in(app, "alice")
    assert '<html lang="zh-CN">' in elsewhere.get("/", headers=ENGLISH, follow_redirects=True).get_data(as_text=True)
    # An anonymous visitor's choice stays in their cookie.
    anonymous = app.test_client()
    token = csrf_token_from(anonymous.get("/auth/login").get_data(as_text=True))
    anonymous.post("/lang", data={"lang": "en", "next": "/", "csrf_token": token})
    assert language_of(app, "alice") == "zh_CN"


def test_account_page_saves_name_and_language(app, users):
    http = logged_in(app, "alice")
    html = http.get("/auth/account").get_data(as_text=True)
    choices = [o.attrs["value"] for o in Page(html).find("select", id="language").find_all("option")]
    assert choices == ["", "en", "zh_CN"]
    token = csrf_token_from(html)
    response = http.post("/auth/account", data={"display_name": " Alice  Liddell ", "language": "zh_CN",
                                                "csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        alice = db.session.scalar(db.select(User).filter_by(username="alice"))
        assert (alice.display_name, alice.language) == ("Alice Liddell", "zh_CN")
    saved = page(http.get("/auth/account", headers=ENGLISH))
    assert "设置已保存。" in saved.notices()
    assert saved.find("select", id="language").selected_option() == "zh_CN"
    http.post("/auth/account", data={"display_name": "Alice", "language": "", "csrf_token": token})
    assert language_of(app, "alice") is None


def test_account_page_refuses_unknown_languages_and_bad_names(app, users):
    http = logged_in(app, "alice")
    token = csrf_token_from(http.get("/auth/account").get_data(as_text=True))
    response = http.post("/auth/account", data={"display_name": "Alice", "language": "fr", "csrf_token": token})
    assert response.status_code == 400
    error = page(response).find("p", id="language-error").text
    assert error == "'fr' is not a language chatapp speaks; choose one of: English, 简体中文."
    response = http.post("/auth/account", data={"display_name": "A\u202eB", "language": "zh_CN", "csrf_token": token})
    assert response.status_code == 400
    assert "control or invisible formatting" in page(response).find("p", id="display_name-error").text
    with app.app_context():
        alice = db.session.scalar(db.select(User).filter_by(username="alice"))
        assert (alice.display_name, alice.language) == ("Alice", None)  # nothing changed


def test_account_page_needs_a_login_and_the_csrf_token(app, users):
    anonymous = app.test_client().get("/auth/account")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
    http = logged_in(app, "alice")
    assert http.post("/auth/account", data={"display_name": "Mallory", "language": "zh_CN"}).status_code == 400
    assert language_of(app, "alice") is None


def test_top_bar_name_links_to_the_account_page(app, users):
    link = page(logged_in(app, "alice").get("/", follow_redirects=True)).find("a", class_="whoami")
    assert link.text == "Alice" and link.attrs["href"] == "/auth/account"


def test_visitors_have_no_settings(app, users):
    key = make_site(app)
    visitor = start_visitor(app, key)
    from chatapp.services import preferences
    from chatapp.services.errors import ServiceError

    with app.test_request_context():
        with pytest.raises(ServiceError) as refused:
            preferences.update_settings(user=db.session.get(User, visitor.id), display_name="V", language="en")
        assert refused.value.code == "forbidden"


# -- the widget's language -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site_language", "host_lang", "headers", "expected"),
    [
        (None, None, ENGLISH, "en"),
        (None, None, CHINESE, "zh-CN"),  # the visitor's browser
        (None, "zh-CN", ENGLISH, "zh-CN"),  # the host page beats the browser
        (None, "zh-Hans", ENGLISH, "zh-CN"),
        (None, "zh", ENGLISH, "zh-CN"),
        (None, "zh-SG", ENGLISH, "zh-CN"),
        (None, "en-GB", CHINESE, "en"),
        (None, "zh-TW", ENGLISH, "en"),  # Traditional Chinese is not spoken: the browser decides
        (None, "fr", CHINESE, "zh-CN"),
        ("en", "zh-CN", CHINESE, "en"),  # the site's setting beats everything
        ("zh_CN", "en", ENGLISH, "zh-CN"),
    ],
)
def test_widget_frame_language(app, client, site_language, host_lang, headers, expected):
    key = make_site(app, language=site_language)
    query = {"site": key} | ({"lang": host_lang} if host_lang else {})
    html = client.get("/widget/frame", query_string=query, headers=headers).get_data(as_text=True)
    assert f'<html lang="{expected}">' in html
    if expected == "zh-CN":
        assert "开始聊天" in html and "与 Shop 聊天" in html and ">Send<" not in html
    else:
        assert "Start chat" in html and "开始聊天" not in html


def test_loader_passes_the_host_pages_language():
    from .test_support_http import LOADER

    source = LOADER.read_text()
    assert '"&lang=" + encodeURIComponent(lang)' in source and "document.documentElement.lang" in source.replace(
        "d.documentElement", "document.documentElement")


def test_admin_sets_a_sites_language(app, users):
    key = make_site(app)
    http = logged_in(app, "admin")
    with app.app_context():
        site_id = db.session.scalar(db.select(Site.id).filter_by(site_key=key))
    token = csrf_token_from(http.get(f"/admin/sites/{site_id}").get_data(as_text=True))
    data = {"site-name": "Shop", "site-origins": "https://shop.example", "site-language": "zh_CN", "csrf_token": token}
    assert http.post(f"/admin/sites/{site_id}", data=data).status_code == 302
    with app.app_context():
        assert db.session.get(Site, site_id).language == "zh_CN"
    response = http.post(f"/admin/sites/{site_id}", data=data | {"site-language": "klingon"})
    assert response.status_code == 400
    assert "'klingon' is not a language chatapp speaks" in " ".join(page(response).notices())
    with app.app_context():
        assert db.session.get(Site, site_id).language == "zh_CN"


# -- the CLI and the migration ---------------------------------------------------------------------


def test_site_create_with_a_language(app, runner):
    result = runner.invoke(args=["site", "create", "Shop", "--origin", "https://shop.example", "--language", "zh_CN"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(db.select(Site.language)) == "zh_CN"
    refused = runner.invoke(args=["site", "create", "Shop", "--origin", "https://shop.example", "--language", "xx"])
    assert refused.exit_code != 0 and "xx" in refused.output


def test_cli_errors_stay_english_outside_any_request(app, runner):
    result = runner.invoke(args=["site", "create", "Shop", "--origin", "ftp://shop.example"])
    assert result.exit_code != 0
    assert "An origin is a scheme and a host" in result.output


def test_service_errors_outside_any_context_are_english():
    from chatapp.services.accounts import check_password
    from chatapp.services.errors import ServiceError

    with pytest.raises(ServiceError) as refused:
        check_password("short")
    assert refused.value.message == "A password is 8 to 256 characters."


def test_language_migration_upgrades_and_downgrades(tmp_path):
    from flask_migrate import downgrade, upgrade

    path = migrated_database(tmp_path / "old.sqlite3", revision="ec54bb247ea8")
    app = create_app(base_config(path))
    connection = sqlite3.connect(path)
    connection.execute(
        "INSERT INTO user (id, username, display_name, password_hash, role, is_active_account, session_epoch,"
        " created_at)"
        " VALUES (1, 'teacher', 'Teacher', 'x', 'staff', 1, 0, '2026-01-01')"
    )
    connection.commit()
    connection.close()
    with app.app_context():
        upgrade()
        teacher = db.session.get(User, 1)
        assert teacher.language is None
        teacher.language = "zh_CN"
        db.session.commit()
        site = sites.create_site(actor=None, name="Shop", origins=["https://shop.example"], language="zh_CN")
        assert site.language == "zh_CN"
        downgrade(revision="ec54bb247ea8")
        assert db.session.execute(db.text("SELECT username FROM user")).scalars().all() == ["teacher"]
        db.session.remove()
        db.engine.dispose()
    columns = {row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(user)")}
    assert "language" not in columns and "username" in columns
    with app.app_context():
        upgrade()
        assert db.session.get(User, 1).language is None
        db.session.remove()
        db.engine.dispose()

