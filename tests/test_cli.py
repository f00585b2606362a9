"""The command-line doors: `user create`, `room create` and `seed-demo`."""
from __future__ import annotations

import re

import pytest

from chatapp.extensions import db
from chatapp.models import Membership, Room, User

from .conftest import AuthActions
from .pages import page


def accounts(app) -> dict[str, str]:
    """username -> role of every account."""
    with app.app_context():
        return {user.username: user.role for user in db.session.scalars(db.select(User))}


def rooms(app) -> dict[str, tuple[str, str, str | None]]:
    """slug -> (name, kind, join code) of every room."""
    with app.app_context():
        return {room.slug: (room.name, room.kind, room.join_code) for room in db.session.scalars(db.select(Room))}


# user create


@pytest.mark.parametrize("role", ["admin", "staff", "member"])
def test_user_create(app, runner, role):
    result = runner.invoke(args=["user", "create", "Teacher", "--password", "long-enough-1", "--role", role])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(rf"Created {role} teacher \(id \d+\)\.\n", result.output)
    assert accounts(app) == {"teacher": role}
    assert "long-enough-1" not in result.output
    assert AuthActions(app.test_client()).login("teacher", "long-enough-1").status_code == 302


def test_user_create_is_a_member_by_default(app, runner):
    result = runner.invoke(args=["user", "create", "pupil", "--password", "long-enough-1"])
    assert result.exit_code == 0, result.output
    assert accounts(app) == {"pupil": "member"}


def test_user_create_with_display_name(app, runner):
    runner.invoke(args=["user", "create", "teacher", "--password", "long-enough-1", "--display-name", "Ms Smith"])
    client = app.test_client()
    AuthActions(client).login("teacher", "long-enough-1")
    assert page(client.get("/")).find(class_="whoami").text == "Ms Smith"


def test_user_create_prompts_for_password_twice(app, runner):
    result = runner.invoke(args=["user", "create", "teacher"], input="long-enough-1\nlong-enough-1\n")
    assert result.exit_code == 0, result.output
    assert "long-enough-1" not in result.output  # typed hidden
    assert AuthActions(app.test_client()).login("teacher", "long-enough-1").status_code == 302


def test_user_create_duplicate(app, runner):
    assert runner.invoke(args=["user", "create", "teacher", "--password", "long-enough-1"]).exit_code == 0
    result = runner.invoke(args=["user", "create", "TEACHER", "--password", "other-password-2", "--role", "admin"])
    assert result.exit_code != 0
    assert "That username is taken; choose another." in result.output
    assert accounts(app) == {"teacher": "member"}


@pytest.mark.parametrize(
    "args,message",
    [
        (["user", "create", "bad name", "--password", "long-enough-1"], "A username is 3 to 32 characters"),
        (["user", "create", "ab", "--password", "long-enough-1"], "A username is 3 to 32 characters"),
        (["user", "create", "teacher", "--password", "short"], "A password is 8 to 256 characters."),
        (
            ["user", "create", "teacher", "--password", "long-enough-1", "--role", "overlord"],
            "Invalid value for '--role'",
        ),
        (["user", "create", "--password", "long-enough-1"], "Missing argument 'USERNAME'"),
    ],
)
def test_user_create_bad_input(app, runner, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # an error message, not a traceback
    assert accounts(app) == {}


# room create


def test_room_create_public(app, runner):
    result = runner.invoke(args=["room", "create", "maths", "--name", "Maths 101"])
    assert result.exit_code == 0, result.output
    assert result.output == "Created public room maths.\n"
    assert rooms(app) == {"maths": ("Maths 101", "public", None)}


def test_room_create_private_prints_its_join_code(app, runner):
    result = runner.invoke(args=["room", "create", "class-7b", "--name", "Class 7B", "--private"])
    assert result.exit_code == 0, result.output
    name, kind, code = rooms(app)["class-7b"]
    assert (name, kind) == ("Class 7B", "private")
    assert result.output == f"Created private room class-7b. Join code: {code}\n"


def test_room_created_by_cli_is_usable(app, runner, users):
    runner.invoke(args=["room", "create", "class-7b", "--name", "Class 7B", "--private"])
    code = rooms(app)["class-7b"][2]
    client = app.test_client()
    AuthActions(client).login("bob")
    assert client.get("/rooms/class-7b").status_code == 403
    token = re.search(r'name="join-csrf_token" type="hidden" value="([^"]+)"', client.get("/").get_data(as_text=True))
    client.post("/join", data={"join-code": code, "join-csrf_token": token.group(1)})
    assert page(client.get("/rooms/class-7b")).find("h1").text == "Class 7B"


def test_room_create_duplicate(app, runner):
    assert runner.invoke(args=["room", "create", "maths", "--name", "Maths"]).exit_code == 0
    result = runner.invoke(args=["room", "create", "maths", "--name", "Other maths", "--private"])
    assert result.exit_code != 0
    assert "A room with that address exists already; choose another." in result.output
    assert rooms(app) == {"maths": ("Maths", "public", None)}


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["room", "create", "Not A Slug", "--name", "X"],
            "A room address is 1 to 64 lowercase letters, digits or '-'.",
        ),
        (["room", "create", "dash-", "--name", "X"], "A room address is 1 to 64 lowercase letters, digits or '-'."),
        (["room", "create", "maths", "--name", "   "], "A room name is 1 to 80 characters."),
        (["room", "create", "maths", "--name", "x" * 81], "A room name is 1 to 80 characters."),
        (["room", "create", "maths"], "Missing option '--name'"),
    ],
)
def test_room_create_bad_input(app, runner, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output
    assert rooms(app) == {}


# seed-demo


def test_seed_demo_on_empty_database(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    passwords = re.findall(r"password: (\S+)", result.output)
    assert len(passwords) == 1
    password = passwords[0]
    assert len(password) >= 12
    assert result.output.count(password) == 1  # shown once
    assert "username: admin" in result.output
    assert accounts(app) == {"admin": "admin"}
    assert {slug: kind for slug, (_, kind, _) in rooms(app).items()} == {
        "general": "public", "random": "public", "class-demo": "private",
    }
    client = app.test_client()
    assert AuthActions(client).login("admin", password).status_code == 302
    assert client.get("/admin/users").status_code == 200
    listed = page(client.get("/")).find("ul", class_="room-list")
    assert {link.attrs["href"] for link in listed.find_all("a")} == {
        "/rooms/general",
        "/rooms/random",
        "/rooms/class-demo",
    }


def test_seed_demo_admin_owns_the_demo_rooms(app, runner):
    runner.invoke(args=["seed-demo"])
    with app.app_context():
        owners = {
            membership.room.slug: membership.user.username
            for membership in db.session.scalars(db.select(Membership).filter_by(role="owner"))
        }
    assert owners == {"general": "admin", "random": "admin", "class-demo": "admin"}


def test_seed_demo_twice_does_nothing_the_second_time(app, runner):
    first = runner.invoke(args=["seed-demo"])
    before = (accounts(app), rooms(app))
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert second.output == "Database already has accounts; no demo data added.\n"
    assert "password" not in second.output
    assert (accounts(app), rooms(app)) == before
    password = re.search(r"password: (\S+)", first.output).group(1)
    assert AuthActions(app.test_client()).login("admin", password).status_code == 302  # not reset


def test_seed_demo_leaves_a_database_with_accounts_alone(app, runner, users):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0
    assert "no demo data added" in result.output
    assert rooms(app) == {}
    assert AuthActions(app.test_client()).login("admin").status_code == 302  # the existing admin's password stands
