"""Command-line doors: `flask --app wsgi user create`, `room create`, `seed-demo`."""
from __future__ import annotations

import secrets

import click
from flask import Flask

from .extensions import db
from .models import ROLES, User
from .services import accounts, rooms
from .services.errors import ServiceError

DEMO_ROOMS = [
    ("general", "General", False),
    ("random", "Random", False),
    ("class-demo", "Class demo (private)", True),
]


def register_commands(app: Flask) -> None:
    """Attach the command groups to app."""
    app.cli.add_command(user_cli)
    app.cli.add_command(room_cli)
    app.cli.add_command(seed_demo)


@click.group("user")
def user_cli() -> None:
    """Manage accounts."""


@user_cli.command("create")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@click.option("--display-name", default=None)
def create_user_command(username: str, password: str, role: str, display_name: str | None) -> None:
    """Create an account."""
    try:
        user = accounts.create_user(username=username, password=password, role=role, display_name=display_name)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Created {user.role} {user.username} (id {user.id}).")


@click.group("room")
def room_cli() -> None:
    """Manage rooms."""


@room_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--private", is_flag=True, help="Only members may enter; they join with a code.")
def create_room_command(slug: str, name: str, private: bool) -> None:
    """Create a room."""
    try:
        room = rooms.create_room(slug=slug, name=name, private=private, creator=None)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Created {room.kind} room {room.slug}." + (f" Join code: {room.join_code}" if room.join_code else ""))


@click.command("seed-demo")
def seed_demo() -> None:
    """On an empty database, add an admin (random password, printed once) and demo rooms."""
    if db.session.scalar(db.select(User.id).limit(1)) is not None:
        click.echo("Database already has accounts; no demo data added.")
        return
    password = secrets.token_urlsafe(12)
    admin = accounts.create_user(username="admin", password=password, role="admin", display_name="Admin")
    for slug, name, private in DEMO_ROOMS:
        rooms.create_room(slug=slug, name=name, private=private, creator=admin)
    click.echo("=" * 60)
    click.echo("Demo data added. Log in at /auth/login with:")
    click.echo("  username: admin")
    click.echo(f"  password: {password}")
    click.echo("This password is shown once; change roles and add staff at /admin/users.")
    click.echo("=" * 60)
