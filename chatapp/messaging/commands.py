"""`flask --app wsgi uploads prune`: remove pictures uploaded but never sent."""
from datetime import timedelta

import click

from ..services import uploads as upload_service
from .blueprint import bp


@bp.cli.command("prune")
@click.option("--older-than-hours", default=24, show_default=True, type=click.IntRange(min=1),
              help="Only uploads at least this old (a person may still be writing the message).")
def prune_command(older_than_hours: int) -> None:
    """Delete unsent uploads (cancelled, or the tab closed) and their files."""
    removed = upload_service.prune_unsent_uploads(older_than=timedelta(hours=older_than_hours))
    click.echo(f"Removed {removed} unsent upload{'s' if removed != 1 else ''}.")
