"""Error pages in the app's look, the favicon and the theme switch, over HTTP (errors.py, main/)."""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

import chatapp

from .conftest import csrf_token_from
from .pages import page


def test_a_404_page_has_a_title_the_top_bar_and_a_way_back(client, auth, users):
    auth.login()
    response = client.get("/no/such/page")
    assert response.status_code == 404
    shown = page(response)
    assert shown.find("h1").text == "Page not found"
    assert shown.find("title").text == "Page not found · chatapp"
    assert shown.find("header", class_="topbar") is not None
    assert shown.find("span", class_="whoami") is not None or "Alice" in shown.find("header").text
    back = shown.find("a", class_="button")
    assert back.text == "Back to your rooms" and back.attrs["href"] == "/"


def test_a_403_page_says_no_access(client, auth, users):
    auth.login()  # a member, not an admin
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert page(response).find("h1").text == "No access"


def test_api_errors_stay_json(client, auth, users):
    auth.login()
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_a_500_page_renders_when_the_database_is_broken(app, client, auth, users, db_path):
    auth.login()
    # Break the database for real: the table of accounts is gone, so loading the user fails.
    with sqlite3.connect(db_path) as connection:
        connection.execute("PRAGMA foreign_keys=OFF")
        connection.execute("ALTER TABLE user RENAME TO user_gone")
    response = client.get("/")
    assert response.status_code == 500
    shown = page(response)
    assert shown.find("h1").text == "Something went wrong"
    assert shown.find("header", class_="topbar") is not None
    assert shown.button("Log out") is None  # nobody could be loaded: a visitor's top bar


def test_favicon_ico_answers_with_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data


def test_pages_link_the_icon_and_its_unread_variant(client):
    link = page(client.get("/auth/login")).find("link", rel="icon")
    assert link.attrs["href"] == "/static/favicon.svg"
    assert client.get(link.attrs["href"]).status_code == 200
    assert client.get(link.attrs["data-unread-href"]).status_code == 200


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_chosen_theme_is_on_the_html_element_from_the_first_byte(client, theme):
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    response = client.post("/theme", data={"theme": theme, "next": "/auth/login", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert page(client.get("/auth/login")).find("html").attrs["data-theme"] == theme
    client.post("/theme", data={"theme": "system", "next": "/auth/login", "csrf_token": token})
    assert "data-theme" not in page(client.get("/auth/login")).find("html").attrs


def test_the_theme_switch_refuses_unknown_themes_and_other_sites(client):
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    response = client.post("/theme", data={"theme": "neon", "next": "https://evil.example/", "csrf_token": token})
    assert response.headers["Location"] == "/"
    assert "data-theme" not in page(client.get("/auth/login")).find("html").attrs


@pytest.mark.parametrize(
    "path, field, value, cookie", [("/theme", "theme", "dark", "theme"), ("/lang", "lang", "zh_CN", "lang")]
)
def test_a_readers_choice_is_kept_a_year_in_a_cookie_scripts_cannot_read(client, path, field, value, cookie):
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    response = client.post(path, data={field: value, "next": "/auth/login", "csrf_token": token})
    (header,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{cookie}=")]
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in header.split(";")[1:]}
    assert header.startswith(f"{cookie}={value};")
    assert attributes["max-age"] == "Max-Age=31536000" and attributes["samesite"] == "SameSite=Lax"
    assert "httponly" in attributes and "secure" not in attributes  # plain http here; https sets Secure


LIGHT_DARK = re.compile(r"(--[\w-]+):\s*light-dark\(\s*([^,]+?)\s*,")
FALLBACK = re.compile(r"@supports not \(color: light-dark\(#000, #fff\)\) \{\s*:root \{([^}]*)\}\s*\}")


@pytest.mark.parametrize("name", ["tokens.css", "app.css", "widget.css"])
def test_browsers_without_light_dark_get_every_light_colour(name):
    """Each colour token written with light-dark() has its light half in the file's fallback block."""
    css = (Path(chatapp.__file__).parent / "static" / "css" / name).read_text()
    tokens = dict(LIGHT_DARK.findall(css))
    assert tokens, f"{name} defines no light-dark() tokens"
    (fallback,) = FALLBACK.findall(css)
    declared = dict(re.findall(r"(--[\w-]+):\s*([^;]+?)\s*;", fallback))
    assert declared == tokens
