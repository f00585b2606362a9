"""Configuration read from the environment, with defaults that run out of the box."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def _bool(name: str, default: bool) -> bool:
    """Read a yes/no environment variable."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_or_create_secret_key(instance_path: str) -> str:
    """Return SECRET_KEY from the environment, else one generated once into instance/."""
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    key_file = Path(instance_path) / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Create with owner-only permissions: the key signs every session cookie.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


class Config:
    """Defaults; every value may be overridden by the environment or instance/config.py."""

    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # None: SQLite in instance/
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    ALLOW_REGISTRATION = _bool("ALLOW_REGISTRATION", True)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session

    # Rate limits, in the `limits` notation ("N per period").
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    REGISTER_RATE_LIMIT = os.environ.get("REGISTER_RATE_LIMIT", "5 per minute")
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "120 per minute")
    SEND_RATE_LIMIT = os.environ.get("SEND_RATE_LIMIT", "30 per 10 seconds")
    TYPING_RATE_LIMIT = os.environ.get("TYPING_RATE_LIMIT", "20 per 10 seconds")
    JOIN_RATE_LIMIT = os.environ.get("JOIN_RATE_LIMIT", "60 per minute")
    # Refused (not logged-in) Socket.IO connections per client address.
    HANDSHAKE_RATE_LIMIT = os.environ.get("HANDSHAKE_RATE_LIMIT", "30 per minute")

    # Behind a reverse proxy (nginx): trust one hop of X-Forwarded-For/-Proto/-Host.
    BEHIND_PROXY = _bool("BEHIND_PROXY", False)
    # Extra origins allowed to open a Socket.IO connection, besides the app's own.
    SOCKETIO_ALLOWED_ORIGINS = [o for o in os.environ.get("SOCKETIO_ALLOWED_ORIGINS", "").split() if o]

    # Socket.IO transport: the largest packet a client may send, in bytes.
    SOCKETIO_MAX_HTTP_BUFFER_SIZE = int(os.environ.get("SOCKETIO_MAX_HTTP_BUFFER_SIZE", 64 * 1024))
    SOCKETIO_PING_INTERVAL = int(os.environ.get("SOCKETIO_PING_INTERVAL", 25))
    SOCKETIO_PING_TIMEOUT = int(os.environ.get("SOCKETIO_PING_TIMEOUT", 20))
