"""Configuration read from the environment, with defaults that run out of the box."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

# The checkout: instance/, migrations/ and node_modules/ live here.
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
    # A whole class signs in from one school address (NAT), so nothing per address counts
    # people: logins count only failures (docs/security.md, "Guessing passwords"). Per account,
    # and per account and address, failures past the free ones make the next try wait
    # LOGIN_FAILURE_DELAY_SECONDS, doubling each time up to LOGIN_MAX_DELAY_SECONDS; the count
    # is forgotten on a good login or LOGIN_FAILURE_WINDOW_SECONDS after its first failure.
    LOGIN_FREE_FAILURES = int(os.environ.get("LOGIN_FREE_FAILURES", 5))  # per account and address
    LOGIN_ACCOUNT_FREE_FAILURES = int(os.environ.get("LOGIN_ACCOUNT_FREE_FAILURES", 20))  # per account, any address
    LOGIN_FAILURE_DELAY_SECONDS = int(os.environ.get("LOGIN_FAILURE_DELAY_SECONDS", 2))
    LOGIN_MAX_DELAY_SECONDS = int(os.environ.get("LOGIN_MAX_DELAY_SECONDS", 15 * 60))
    LOGIN_FAILURE_WINDOW_SECONDS = int(os.environ.get("LOGIN_FAILURE_WINDOW_SECONDS", 3600))
    # Failed logins per address, whatever the account: stops one address trying passwords
    # across many accounts, with room for hundreds of students who each mistype now and then.
    LOGIN_FAILURE_RATE_LIMIT = os.environ.get("LOGIN_FAILURE_RATE_LIMIT", "200 per 10 minutes")
    # Accounts created per address (a class registering at once fits many times over).
    REGISTER_RATE_LIMIT = os.environ.get("REGISTER_RATE_LIMIT", "100 per 10 minutes")
    # The JSON API, per logged-in account (per address only for requests with no account).
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "120 per minute")
    SEND_RATE_LIMIT = os.environ.get("SEND_RATE_LIMIT", "30 per 10 seconds")
    TYPING_RATE_LIMIT = os.environ.get("TYPING_RATE_LIMIT", "20 per 10 seconds")
    JOIN_RATE_LIMIT = os.environ.get("JOIN_RATE_LIMIT", "60 per minute")
    # Refused (not logged-in) Socket.IO connections per client address: a class whose
    # sessions all ended (a logout everywhere, a new SECRET_KEY) reconnects at once, and
    # each of its 40 tabs retries with backoff; forged tokens from one address still stop.
    HANDSHAKE_RATE_LIMIT = os.environ.get("HANDSHAKE_RATE_LIMIT", "300 per minute")
    # The support widget's JSON API (visitor sessions, the loader's unread poll every 30 s),
    # per address: an office of 40 visitors uses about 100 a minute.
    WIDGET_RATE_LIMIT = os.environ.get("WIDGET_RATE_LIMIT", "600 per minute")

    # Behind a reverse proxy (nginx): trust one hop of X-Forwarded-For/-Proto/-Host.
    BEHIND_PROXY = _bool("BEHIND_PROXY", False)
    # Extra origins allowed to open a Socket.IO connection, besides the app's own.
    SOCKETIO_ALLOWED_ORIGINS = [o for o in os.environ.get("SOCKETIO_ALLOWED_ORIGINS", "").split() if o]

    # More than one server process (docs/deployment.md): every process publishes its
    # broadcasts through this queue (redis://...), and keeps who-is-online in Redis
    # (PRESENCE_URL, by default the same Redis) instead of in its own memory.
    SOCKETIO_MESSAGE_QUEUE = os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None
    PRESENCE_URL = os.environ.get("PRESENCE_URL") or None
    # A process that stops refreshing its presence heartbeat for this long (killed, frozen)
    # is taken for dead: its sockets go offline everywhere.
    PRESENCE_TTL_SECONDS = int(os.environ.get("PRESENCE_TTL_SECONDS", 15))
    PRESENCE_KEY_PREFIX = os.environ.get("PRESENCE_KEY_PREFIX", "chatapp:presence:")

    # Socket.IO transport: the largest packet a client may send, in bytes.
    SOCKETIO_MAX_HTTP_BUFFER_SIZE = int(os.environ.get("SOCKETIO_MAX_HTTP_BUFFER_SIZE", 64 * 1024))
    SOCKETIO_PING_INTERVAL = int(os.environ.get("SOCKETIO_PING_INTERVAL", 25))
    SOCKETIO_PING_TIMEOUT = int(os.environ.get("SOCKETIO_PING_TIMEOUT", 20))
    # permessage-deflate on WebSocket frames. Off by default: it shrinks a chat message's
    # frame (~300 bytes) to a few dozen, but the server deflates each frame again for
    # every recipient and keeps a ~256 KiB zlib state per connection, which halves room
    # broadcast throughput and doubles memory per socket (docs/performance.md). Turn it
    # on where bandwidth, not server CPU, is what runs out.
    SOCKETIO_WEBSOCKET_COMPRESSION = _bool("SOCKETIO_WEBSOCKET_COMPRESSION", False)
    # Group commit: the sends that arrive while one transaction is being written share the
    # next one (each acked only after that COMMIT; a failing send fails alone). Off: one
    # transaction per send (services/committer.py, docs/performance.md).
    GROUP_COMMIT = _bool("GROUP_COMMIT", True)

    # Classroom: how long after sending an author may still delete their own message
    # (moderators may delete any message at any time). 0: no time limit.
    MESSAGE_DELETE_WINDOW_SECONDS = int(os.environ.get("MESSAGE_DELETE_WINDOW_SECONDS", 15 * 60))
    # The longest slow mode and mute a moderator may set.
    MAX_SLOW_MODE_SECONDS = 3600
    MAX_MUTE_MINUTES = 7 * 24 * 60

    # Messaging: how long after sending an author may still edit their own message. 0: no time limit.
    MESSAGE_EDIT_WINDOW_SECONDS = int(os.environ.get("MESSAGE_EDIT_WINDOW_SECONDS", 15 * 60))
    # Pictures: where they are stored (None: instance/uploads), the largest file accepted,
    # the most pixels one may have (a small file can decode into gigabytes: a "decompression
    # bomb"), and how many one message may carry.
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER")
    # Where rooms' history exports (zips) are kept, outside the web root; None: instance/exports.
    EXPORT_FOLDER = os.environ.get("EXPORT_FOLDER")
    UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", 5 * 1024 * 1024))
    UPLOAD_MAX_PIXELS = int(os.environ.get("UPLOAD_MAX_PIXELS", 40_000_000))
    MAX_ATTACHMENTS_PER_MESSAGE = 10
    UPLOAD_RATE_LIMIT = os.environ.get("UPLOAD_RATE_LIMIT", "30 per minute")
    # Files that are not pictures (PDF, office documents, text, ZIP, audio, video): the
    # largest accepted, and how much one account may keep stored in all (pictures included).
    FILE_MAX_BYTES = int(os.environ.get("FILE_MAX_BYTES", 25 * 1024 * 1024))
    UPLOAD_QUOTA_BYTES = int(os.environ.get("UPLOAD_QUOTA_BYTES", 500 * 1024 * 1024))
    # A PDF's file card shows its first page, rendered once at upload: not for PDFs larger than
    # this, nor for pages larger than this many points (1/72 inch) on a side (PDF's own limit is 14400).
    PDF_PREVIEW_MAX_BYTES = int(os.environ.get("PDF_PREVIEW_MAX_BYTES", 10 * 1024 * 1024))
    PDF_PREVIEW_MAX_PAGE_POINTS = int(os.environ.get("PDF_PREVIEW_MAX_PAGE_POINTS", 14400))
    SEARCH_RATE_LIMIT = os.environ.get("SEARCH_RATE_LIMIT", "60 per minute")
    # Emoji reactions: how many different emoji one message may carry, and how fast one person reacts.
    REACTION_KINDS_MAX = int(os.environ.get("REACTION_KINDS_MAX", 20))
    REACT_RATE_LIMIT = os.environ.get("REACT_RATE_LIMIT", "60 per 10 seconds")
    # A member's read position in a room or class is written at most once in so many seconds
    # (services/read_writes.py; 0: every read at once). Direct rooms and conversations: always at once.
    READ_WRITE_SECONDS = int(os.environ.get("READ_WRITE_SECONDS", 3))

    # Class lists: how long a new student's one-time sign-in code works (days; a teacher may
    # choose up to SIGN_IN_CODE_MAX_DAYS), and the most students one list may have.
    SIGN_IN_CODE_DAYS = int(os.environ.get("SIGN_IN_CODE_DAYS", 7))
    SIGN_IN_CODE_MAX_DAYS = int(os.environ.get("SIGN_IN_CODE_MAX_DAYS", 90))
    CLASS_LIST_MAX_LINES = int(os.environ.get("CLASS_LIST_MAX_LINES", 500))
    # The support desk (services/availability.py, routing.py): an agent whose console saw no
    # sign of them for this long is away; every process looks for work to hand out this often
    # (waiting conversations, business hours opening, agents gone idle or offline); 0: never.
    AGENT_IDLE_SECONDS = int(os.environ.get("AGENT_IDLE_SECONDS", 10 * 60))
    DESK_TICK_SECONDS = float(os.environ.get("DESK_TICK_SECONDS", 10))
    # On a site that gives an offline agent's conversations back, how long they must have been
    # offline first: a reload or a short network drop is not leaving.
    AGENT_OFFLINE_GRACE_SECONDS = int(os.environ.get("AGENT_OFFLINE_GRACE_SECONDS", 60))

    # The outbox (services/outbox.py, chatapp/worker.py): e-mail and webhooks leave through jobs
    # stored with the change that caused them. `python wsgi.py` runs a worker in its process
    # (OUTBOX_WORKER); with several processes, run `flask --app wsgi worker` beside them or leave
    # it on in each (workers never take the same job). A try holds its job for OUTBOX_LEASE_SECONDS
    # (longer than any send may take); a failed try comes back after OUTBOX_BACKOFF_SECONDS,
    # doubling up to OUTBOX_BACKOFF_MAX_SECONDS (with jitter), at most OUTBOX_MAX_ATTEMPTS tries.
    OUTBOX_WORKER = _bool("OUTBOX_WORKER", True)
    OUTBOX_POLL_SECONDS = float(os.environ.get("OUTBOX_POLL_SECONDS", 1))
    OUTBOX_CONCURRENCY = int(os.environ.get("OUTBOX_CONCURRENCY", 4))
    OUTBOX_LEASE_SECONDS = int(os.environ.get("OUTBOX_LEASE_SECONDS", 120))
    OUTBOX_BACKOFF_SECONDS = float(os.environ.get("OUTBOX_BACKOFF_SECONDS", 30))
    OUTBOX_BACKOFF_MAX_SECONDS = float(os.environ.get("OUTBOX_BACKOFF_MAX_SECONDS", 6 * 3600))
    OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", 8))

    # E-mail (services/mail.py). No SMTP_HOST: e-mails are written to the log instead of sent.
    # SMTP_SECURITY: "starttls" (port 587), "tls" (implicit TLS, port 465) or "none".
    SMTP_HOST = os.environ.get("SMTP_HOST") or None
    SMTP_PORT = int(os.environ.get("SMTP_PORT", 587))
    SMTP_SECURITY = os.environ.get("SMTP_SECURITY", "starttls").strip().lower()
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME") or None
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD") or None
    SMTP_TIMEOUT_SECONDS = float(os.environ.get("SMTP_TIMEOUT_SECONDS", 30))
    MAIL_FROM = os.environ.get("MAIL_FROM", "chatapp <chatapp@localhost>")
    # This chatapp's public address (https://chat.example.org), where links in e-mails point;
    # None: http://HOST:PORT, as `make run` serves it (services/mail.public_url).
    CHATAPP_URL = os.environ.get("CHATAPP_URL") or None
    # Who is e-mailed, and when (services/visitor_mail.py, member_mail.py): a visitor who is not
    # online when an agent replies gets the replies VISITOR_REPLY_DELAY_SECONDS later (several
    # replies meanwhile make one e-mail), with a link back to the chat that works for
    # VISITOR_LINK_MAX_AGE_SECONDS; a visitor's message while no agent is online is e-mailed to the
    # site's agents AGENT_NOTICE_DELAY_SECONDS later (a burst makes one e-mail); a member's direct
    # message or @mention still unread MEMBER_NOTICE_DELAY_SECONDS later is e-mailed to them.
    VISITOR_REPLY_DELAY_SECONDS = float(os.environ.get("VISITOR_REPLY_DELAY_SECONDS", 120))
    VISITOR_LINK_MAX_AGE_SECONDS = int(os.environ.get("VISITOR_LINK_MAX_AGE_SECONDS", 14 * 24 * 3600))
    AGENT_NOTICE_DELAY_SECONDS = float(os.environ.get("AGENT_NOTICE_DELAY_SECONDS", 60))
    MEMBER_NOTICE_DELAY_SECONDS = float(os.environ.get("MEMBER_NOTICE_DELAY_SECONDS", 15 * 60))
    # The classes' time zone (an IANA name, services/class_time.py): homework due times and attendance
    # spans are entered and shown in it.
    CLASS_TIME_ZONE = os.environ.get("CLASS_TIME_ZONE", "UTC")
    # A visitor asking for the conversation by e-mail, per visitor.
    TRANSCRIPT_RATE_LIMIT = os.environ.get("TRANSCRIPT_RATE_LIMIT", "3 per hour")

    # Webhooks (services/webhooks.py, docs/webhooks.md): how long a call may take; how many
    # deliveries failed for good in a row turn a webhook off; how soon a process sees a webhook
    # another process registered. WEBHOOK_ALLOW_PRIVATE_ADDRESSES lets webhooks call private,
    # loopback and link-local addresses (a receiver inside your own network; the tests' own
    # receiver on 127.0.0.1): off, a webhook cannot be used to probe the server's network.
    WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", 10))
    WEBHOOK_DISABLE_AFTER = int(os.environ.get("WEBHOOK_DISABLE_AFTER", 5))
    WEBHOOK_CACHE_SECONDS = float(os.environ.get("WEBHOOK_CACHE_SECONDS", 5))
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES = _bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)
