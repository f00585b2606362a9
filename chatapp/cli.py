"""Command-line doors: `flask --app wsgi user create`, `room create`, `site create`, `seed-demo`."""
from __future__ import annotations

import secrets

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from .extensions import db
from .models import ROLES, User
from .services import accounts, class_lists, rooms, sites
from .services.errors import ServiceError
from .services.mail import public_url
from .services.preferences import LANGUAGES

DEMO_ROOMS = [
    ("general", "General", False),
    ("random", "Random", False),
    ("class-demo", "Class demo (private)", True),
]


def register_commands(app: Flask) -> None:
    """Attach the command groups to app."""
    app.cli.add_command(user_cli)
    app.cli.add_command(room_cli)
    app.cli.add_command(site_cli)
    app.cli.add_command(seed_demo)
    app.cli.add_command(class_cli)
    app.cli.add_command(worker_command)


# AppGroup and with_appcontext: the commands need the app's database whether they are run
# by `flask --app wsgi` (which pushes a context) or invoked on app.cli directly (which does not).
@click.group("user", cls=AppGroup)
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


@click.group("room", cls=AppGroup)
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


@click.group("site", cls=AppGroup)
def site_cli() -> None:
    """Manage the websites that embed the support widget."""


@site_cli.command("create")
@click.argument("name")
@click.option("--origin", "origins", multiple=True, required=True,
              help="An origin the widget is embedded on, like https://shop.example (repeatable).")
@click.option("--identity-secret", default=None, help="Lets host pages vouch for their signed-in users (HMAC-SHA256).")
@click.option("--prechat", is_flag=True, help="Ask visitors for their name and e-mail before the chat.")
@click.option("--language", type=click.Choice(["auto", *LANGUAGES]), default="auto", show_default=True,
              help="The widget's language; auto: the host page's <html lang>, else the visitor's browser's.")
@click.option("--app-url", default=None, help="This chatapp's public address, for the snippet [CHATAPP_URL or http://HOST:PORT].")
def create_site_command(name: str, origins: tuple[str, ...], identity_secret: str | None, prechat: bool,
                        language: str, app_url: str | None) -> None:
    """Register a website; print its site key and the embed snippet."""
    try:
        site = sites.create_site(
            actor=None,
            name=name,
            origins=origins,
            identity_secret=identity_secret,
            prechat_enabled=prechat,
            language=None if language == "auto" else language,
        )
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Created site {site.name} (id {site.id}).")
    click.echo(f"Site key: {site.site_key}")
    click.echo(f"Allowed origins: {' '.join(site.origins)}")
    click.echo("Put this tag on every page of the site:")
    click.echo(f"  {sites.embed_snippet(site=site, app_url=app_url or public_url())}")


@site_cli.command("list")
def list_sites_command() -> None:
    """List the registered websites."""
    for site in sites.list_sites(actor=None):
        click.echo(f"{site.id}\t{site.site_key}\t{site.name}\t{' '.join(site.origins)}")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """On an empty database, add an admin (random password, printed once) and demo rooms."""
    if db.session.scalar(db.select(User.id).limit(1)) is not None:
        click.echo("Database already has accounts; no demo data added.")
        return
    password = secrets.token_urlsafe(12)
    admin = accounts.create_user(username="admin", password=password, role="admin", display_name="Admin")
    for slug, name, private in DEMO_ROOMS:
        rooms.create_room(slug=slug, name=name, private=private, creator=admin)
    # The widget demo at /support/demo is on chatapp's own origin, which the widget always allows.
    demo_url = public_url()
    try:
        demo_origins = [sites.check_origin(demo_url)]
    except ServiceError:  # CHATAPP_URL with a path: its origin is what browsers send
        demo_origins = ["http://127.0.0.1:5000"]
    sites.create_site(actor=None, name="chatapp demo site", origins=demo_origins, prechat_enabled=True)
    click.echo("=" * 60)
    click.echo("Demo data added. Log in at /auth/login with:")
    click.echo("  username: admin")
    click.echo(f"  password: {password}")
    click.echo("This password is shown once; change roles and add staff at /admin/users.")
    click.echo(f"Support widget demo: {demo_url}/support/demo (answer it at {demo_url}/support).")
    click.echo("=" * 60)


@click.group("class", cls=AppGroup)
def class_cli() -> None:
    """Manage classes."""


@class_cli.command("import")
@click.argument("slug")
@click.argument("csv_file", type=click.File("rb"))
@click.option("--teacher", help="Import as this moderator of the class (default: whoever created it).")
@click.option("--days", type=int, default=None, help="How many days the new sign-in codes work (default 7).")
@click.option("--url", "sign_in_url", default="http://127.0.0.1:5000/auth/code", show_default=True,
              help="The sign-in address printed with each code.")
@with_appcontext
def import_class_command(slug: str, csv_file, teacher: str | None, days: int | None, sign_in_url: str) -> None:
    """Enrol a class list (CSV: name, username, e-mail) and print the new sign-in codes as CSV; all or nothing."""
    try:
        room = rooms.get_room(slug)
        actor = _class_teacher(room, teacher)
        text, _encoding = class_lists.decode_class_file(csv_file.read())
        result = class_lists.import_class_list(actor=actor, room=room, text=text, days=days)
    except ServiceError as error:
        for line in error.extra.get("lines", []):
            click.echo(f"line {line['line']}: {line['message']}", err=True)
        raise click.ClickException(error.message) from None
    rows = [(s.user.display_name, s.user.username, s.code) for s in result.students]
    click.echo(class_lists.codes_as_csv(rows, sign_in_url=sign_in_url).lstrip("\ufeff"), nl=False)
    click.echo(f"{result.created} accounts created, {len(rows) - result.created} existing enrolled in {room.slug}; "
               f"codes work until {result.expires_at:%Y-%m-%d %H:%M} UTC.", err=True)


def _class_teacher(room, username: str | None) -> User:
    """The account an import acts as: the named one, else the class's creator."""
    if username:
        user = db.session.scalar(db.select(User).filter_by(username=accounts.normalize_username(username)))
    else:
        user = db.session.get(User, room.created_by_id) if room.created_by_id else None
    if user is None:
        raise ServiceError("not_found", "No such teacher: name one with --teacher USERNAME.")
    return user


@click.command("worker")
@with_appcontext
def worker_command() -> None:
    """Send the outbox's e-mails and webhook calls until interrupted (for sites that run several processes)."""
    from flask import current_app

    from .worker import run_forever

    click.echo(f"chatapp worker: {current_app.config['OUTBOX_CONCURRENCY']} threads sending the outbox's jobs")
    run_forever(current_app._get_current_object())  # type: ignore[attr-defined]  # the app itself, for its threads
