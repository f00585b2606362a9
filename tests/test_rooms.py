"""The room list, creating and joining rooms, and the server-rendered room page."""
from __future__ import annotations

import pytest

from chatapp.extensions import db
from chatapp.models import Membership, Room

from .conftest import AuthActions, csrf_token_from, seed_messages
from .pages import page, redirect_target


def room_links(response) -> dict[str, str]:
    """The rooms listed on the home page, as slug -> the link's text (name and badge)."""
    listed = page(response).find("ul", class_="room-list")
    if listed is None:
        return {}
    return {link.attrs["href"].removeprefix("/rooms/"): link.text for link in listed.find_all("a")}


def member_names(response) -> list[str]:
    """The names in a room page's member list."""
    return [element.text for element in page(response).find("ul", id="members").find_all(class_="name")]


def create_room(client, name: str, private: bool = False):
    """Submit the home page's "Create a room" form."""
    data = {"create-name": name, "create-csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))}
    if private:
        data["create-private"] = "y"
    return client.post("/rooms/new", data=data)


def join_with_code(client, code: str):
    """Submit the home page's "Join with a code" form."""
    data = {"join-code": code, "join-csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))}
    return client.post("/join", data=data)


def room_count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(Room.id)))


def is_member(app, user, slug: str) -> bool:
    with app.app_context():
        room = db.session.scalar(db.select(Room).filter_by(slug=slug))
        return db.session.scalar(db.select(Membership.id).filter_by(user_id=user.id, room_id=room.id)) is not None


# The room list


def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    host, path, query = redirect_target(response)
    assert (host, path, query) == ("localhost", "/auth/login", {"next": ["/"]})


def test_home_lists_public_rooms_and_own_private_rooms(client, auth, public_room, private_room):
    auth.login("alice")
    assert room_links(client.get("/")) == {"lobby": "Lobby public", "secret": "Secret private"}


def test_home_hides_other_peoples_private_rooms(client, auth, public_room, private_room):
    auth.login("bob")
    response = client.get("/")
    assert room_links(response) == {"lobby": "Lobby public"}
    assert "Secret" not in page(response).text()


def test_admin_sees_every_room(client, auth, public_room, private_room):
    auth.login("admin")
    assert set(room_links(client.get("/"))) == {"lobby", "secret"}


def test_home_with_no_rooms_says_what_to_do(client, auth, users):
    auth.login("alice")
    assert "No rooms yet. Create one, or join one with a code." in page(client.get("/")).text()


def test_home_has_create_and_join_forms(client, auth, users):
    auth.login("alice")
    home = page(client.get("/"))
    assert home.labelled("Room name") is not None
    assert home.labelled("Join code") is not None
    assert home.button("Create room") is not None
    assert home.button("Join room") is not None


# Creating rooms


def test_create_public_room(client, auth, users):
    auth.login("alice")
    response = create_room(client, "Maths 101")
    assert response.status_code == 302
    assert redirect_target(response)[1] == "/rooms/maths-101"
    room = page(client.get("/rooms/maths-101"))
    assert room.find("h1").text == "Maths 101"
    assert room.find(class_="join-code") is None
    assert room_links(client.get("/"))["maths-101"] == "Maths 101 public"


def test_create_private_room_shows_its_join_code(app, client, auth, users):
    auth.login("staff")
    response = create_room(client, "Class 7B", private=True)
    assert response.status_code == 302
    slug = redirect_target(response)[1].removeprefix("/rooms/")
    with app.app_context():
        code = db.session.scalar(db.select(Room.join_code).filter_by(slug=slug))
    assert code
    shown = page(client.get(f"/rooms/{slug}"))
    assert f"Room created. Its join code is {code}." in shown.notices()
    assert shown.find("code", class_="join-code").text == code
    # The code stays on the owner's room page, not only in the one-time notice.
    assert page(client.get(f"/rooms/{slug}")).find("code", class_="join-code").text == code
    assert room_links(client.get("/"))[slug] == "Class 7B private"


def test_private_room_is_invisible_to_others_until_they_join(app, client, auth, users):
    auth.login("staff")
    slug = redirect_target(create_room(client, "Class 7B", private=True))[1].removeprefix("/rooms/")
    bob = app.test_client()
    AuthActions(bob).login("bob")
    assert slug not in room_links(bob.get("/"))
    assert bob.get(f"/rooms/{slug}").status_code == 403


def test_same_name_twice_gets_two_rooms(client, auth, users):
    auth.login("alice")
    first = redirect_target(create_room(client, "Chat"))[1]
    second = redirect_target(create_room(client, "Chat"))[1]
    assert first == "/rooms/chat"
    assert second.startswith("/rooms/chat-") and second != first


@pytest.mark.parametrize(
    "name,message",
    [
        ("", "Give the room a name of 1 to 80 characters."),
        ("   ", "Give the room a name of 1 to 80 characters."),
        ("x" * 81, "Give the room a name of 1 to 80 characters."),
        ("Hidden\u200bname", "A room name cannot contain control or invisible formatting characters."),
    ],
)
def test_create_room_with_bad_name_says_why(app, client, auth, users, name, message):
    auth.login("alice")
    before = room_count(app)
    response = create_room(client, name)
    assert response.status_code == 302 and redirect_target(response)[1] == "/"
    assert message in page(client.get("/")).notices()
    assert room_count(app) == before


def test_create_room_needs_csrf(app, client, auth, users):
    auth.login("alice")
    response = client.post("/rooms/new", data={"create-name": "Sneaky"})
    assert response.status_code == 400
    assert room_count(app) == 0


def test_create_room_needs_login(app, client):
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    response = client.post("/rooms/new", data={"create-name": "Sneaky", "create-csrf_token": token})
    assert response.status_code == 302
    assert redirect_target(response)[1] == "/auth/login"
    assert room_count(app) == 0


# Joining by code


def test_join_with_right_code(app, client, auth, users, private_room):
    auth.login("bob")
    response = join_with_code(client, private_room.join_code)
    assert response.status_code == 302
    assert redirect_target(response)[1] == "/rooms/secret"
    assert is_member(app, users["bob"], "secret")
    room = page(client.get("/rooms/secret"))
    assert room.find("h1").text == "Secret"
    assert "Bob" in member_names(client.get("/rooms/secret"))
    assert "secret" in room_links(client.get("/"))


def test_join_code_is_forgiving_about_case_and_spaces(app, client, auth, users, private_room):
    auth.login("bob")
    code = private_room.join_code
    typed = f" {code[:4].lower()} {code[4:].lower()} "
    assert redirect_target(join_with_code(client, typed))[1] == "/rooms/secret"


def test_join_with_wrong_code(app, client, auth, users, private_room):
    auth.login("bob")
    response = join_with_code(client, "WRONGCODE")
    assert response.status_code == 302 and redirect_target(response)[1] == "/"
    assert "No room has that join code; check it and try again." in page(client.get("/")).notices()
    assert not is_member(app, users["bob"], "secret")


def test_join_with_empty_code(client, auth, users, private_room):
    auth.login("bob")
    join_with_code(client, "")
    assert "Type the join code you were given." in page(client.get("/")).notices()


def test_join_needs_csrf(app, client, auth, users, private_room):
    auth.login("bob")
    response = client.post("/join", data={"join-code": private_room.join_code})
    assert response.status_code == 400
    assert not is_member(app, users["bob"], "secret")


# The room page


def test_room_page_has_latest_messages_before_any_script(app, client, auth, users, public_room):
    seed_messages(app, users["bob"], public_room, 55)
    auth.login("alice")
    room = page(client.get("/rooms/lobby"))
    log = room.find(role="log")
    # The log wraps the list, so that the list keeps its list role for its <li>s (axe: listitem).
    assert log is not None and log.find("ol", id="messages") is not None
    bodies = [element.text for element in room.find_all(class_="body")]
    assert bodies == [f"m{n}" for n in range(5, 55)]
    senders = {element.text for element in room.find_all("span", class_="sender")}
    assert senders == {"Bob"}
    older = room.find("button", id="load-older")
    assert older.text == "Load older messages" and "hidden" not in older.attrs
    assert "hidden" in room.find(id="empty").attrs  # no "No messages yet" over a full log


def test_room_page_without_messages_invites_to_write(client, auth, public_room):
    auth.login("alice")
    room = page(client.get("/rooms/lobby"))
    empty = room.find(id="empty")
    assert empty.text == "No messages yet. Say hello!" and "hidden" not in empty.attrs
    assert "hidden" in room.find("button", id="load-older").attrs


def test_room_page_shows_text_as_text(app, client, auth, users, public_room):
    from chatapp.services import messages

    with app.app_context():
        messages.post_message(
            sender=users["bob"], room=db.session.merge(public_room), body='<b>x</b><script>alert("x")</script>',
            client_id="html-1", enforce_rate_limit=False,
        )
    auth.login("alice")
    html = client.get("/rooms/lobby").get_data(as_text=True)
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<b>x</b>" not in html
    assert '<script>alert("x")</script>' not in html
    assert page(client.get("/rooms/lobby")).find(class_="body").text == '<b>x</b><script>alert("x")</script>'


def test_room_page_lists_members(client, auth, private_room):
    auth.login("alice")
    response = client.get("/rooms/secret")
    assert sorted(member_names(response)) == ["Alice", "Staff"]
    staff_entry = [item for item in page(response).find("ul", id="members").find_all("li") if "Staff" in item.text]
    assert "owner" in staff_entry[0].text


def test_room_page_has_accessible_composer(client, auth, public_room):
    auth.login("alice")
    room = page(client.get("/rooms/lobby"))
    textbox = room.labelled("Message")
    assert textbox is not None and textbox.tag == "textarea"
    assert textbox.attrs["maxlength"] == "4000"
    send = room.button("Send")
    assert send is not None and send.attrs.get("type") == "submit"
    assert room.find(role="log") is not None


def test_private_room_page_is_forbidden_to_non_members(client, auth, private_room):
    auth.login("bob")
    response = client.get("/rooms/secret")
    assert response.status_code == 403
    text = page(response).text()
    assert "This room is private; ask its owner for the join code." in text
    assert "Secret" not in page(response).find("h1").text


def test_unknown_room_is_not_found(client, auth, users):
    auth.login("alice")
    for slug in ("nowhere", "NOT-A-SLUG", "a" * 70):
        response = client.get(f"/rooms/{slug}")
        assert response.status_code == 404
        assert "There is no such room." in page(response).text()


def test_room_page_requires_login(client, public_room):
    response = client.get("/rooms/lobby")
    assert response.status_code == 302
    assert redirect_target(response)[1:] == ("/auth/login", {"next": ["/rooms/lobby"]})


def test_visiting_a_public_room_makes_you_a_member(app, client, auth, users, public_room):
    auth.login("alice")
    client.get("/rooms/lobby")
    assert is_member(app, users["alice"], "lobby")
    assert "Alice" in member_names(client.get("/rooms/lobby"))


@pytest.mark.parametrize("path", ["/auth/login", "/", "/rooms/lobby", "/rooms/nowhere", "/api/v1/rooms/lobby/messages"])
def test_security_headers(client, auth, public_room, path):
    auth.login("alice")
    response = client.get(path)
    policy = response.headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    script_src = directives.get("script-src", directives.get("default-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert directives["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_room_page_has_no_inline_script(client, auth, public_room):
    """The CSP forbids inline scripts, so the page must not depend on one."""
    auth.login("alice")
    room = page(client.get("/rooms/lobby"))
    scripts = room.find_all("script")
    assert scripts and all(script.attrs.get("src") for script in scripts)
    assert all(not script.text for script in scripts)
