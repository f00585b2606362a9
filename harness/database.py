"""A test database: the configuration every test app starts from, and a SQLite file brought up by the real migrations."""
from __future__ import annotations

from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import text

from chatapp import create_app
from chatapp.extensions import db

PASSWORD = "correct-horse-42"  # every account the tests and the screenshot scripts make has it
# Argon2id at its cheapest: production's parameters (chatapp/models.py) cost tens of
# milliseconds a hash, and most tests make five accounts and log in. Tests only, through the
# config; test_passwords_are_stored_as_strong_argon2id_hashes checks production's, and
# LiveServer seeds with production's (PASSWORD_HASHER None), as its server process hashes.
CHEAP_PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def base_config(db_path: Path) -> dict:
    """The configuration every test app starts from."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
        "UPLOAD_FOLDER": str(db_path.parent / "uploads"),  # pictures beside the database, never in instance/
        "EXPORT_FOLDER": str(db_path.parent / "exports"),
        "SOCKETIO_ASYNC_MODE": "threading",
        "PASSWORD_HASHER": CHEAP_PASSWORD_HASHER,
        "RATELIMIT_ENABLED": True,
        "API_RATE_LIMIT": "1000 per minute",
        "SEND_RATE_LIMIT": "1000 per minute",
        "TYPING_RATE_LIMIT": "1000 per minute",
        "JOIN_RATE_LIMIT": "1000 per minute",
        # No background desk tick in test apps (they call routing.tick() themselves); live servers have theirs.
        "DESK_TICK_SECONDS": 0,
        # No background outbox worker either: tests send the due jobs with outbox.run_due().
        "OUTBOX_WORKER": False,
        "OUTBOX_BACKOFF_SECONDS": 0.2,
        "OUTBOX_BACKOFF_MAX_SECONDS": 1.0,
        # Every read written at once in test apps; tests/test_read_writes.py turns the spacing on.
        "READ_WRITE_SECONDS": 0,
    }


def migrated_database(path: Path, revision: str = "head") -> Path:
    """A new SQLite file at path brought up to revision (the newest) by the real migrations (tests and scripts/ use it)."""
    from flask_migrate import upgrade

    app = create_app(base_config(path))
    with app.app_context():
        upgrade(revision=revision)
        # Fold the WAL into the main file, so that copying the one file copies the schema.
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()
    return path
