"""History paging on a room of N messages: the database (built once, cached), the service call, the query plan.

    python bench/history.py build   --messages N --out FILE.sqlite3      # a fresh, migrated DB with the room
    python bench/history.py service --db FILE.sqlite3 --pages P [--seed S] [--drop-index]   # prints JSON

bench/bench.py runs both (pinned to the server's core) and measures the same pages end to end
over a socket.io `history` event (bench/loadgen, scenario "history"). The database is migrated
with the real migrations; its users and rooms are made through chatapp's services; the messages
go in with one bulk INSERT (SQLAlchemy Core executemany), because a million sends through the
service would take hours. See docs/performance.md, "History paging".
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import statistics
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
PASSWORD = "bench-password-42"  # the same as bench.py's, so that bench.py can log these users in
SECRET_KEY = "chatapp-bench-secret-key"
ROOM = "history"
SENDERS = 8
OTHER_ROOMS = 4  # small rooms whose messages interleave with the big one's (ids are global)
OTHER_SHARE = 0.05  # their messages, as a share of the big room's
PAGE = 50
CHUNK = 20_000
INDEX_NAME = "ix_message_room_id_id"
BUILD_VERSION = 2  # bump when build() makes a different database, so that cached ones are rebuilt
INSERT_MESSAGE = (
    "INSERT INTO message (id, room_id, sender_id, body, created_at, internal, deleted_by_moderator, is_question) "
    "VALUES (?, ?, ?, ?, ?, 0, 0, 0)"
)
WORDS = (
    "the a to and of is it you that in we for on this have be can do not are with will just so what "
    "about if at all there was homework question answer today tomorrow lesson page exercise thanks ok "
    "yes no maybe think know please help see meeting class notes link time week deadline draft"
).split()


def cache_key(messages: int) -> str:
    """Names a cached database: the message count and the migrations it was built with."""
    digest = hashlib.sha256()
    for path in sorted((PROJECT_ROOT / "migrations" / "versions").glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    digest.update(f"build {BUILD_VERSION}".encode())
    return f"history-{messages}-{digest.hexdigest()[:12]}"


def body_for(rng: random.Random, usernames: list[str]) -> str:
    """A chat-like body: mostly a short line, sometimes a paragraph, now and then Markdown, a link or a mention."""
    roll = rng.random()
    words = rng.randint(2, 12) if roll < 0.75 else rng.randint(13, 40) if roll < 0.97 else rng.randint(60, 120)
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    extra = rng.random()
    if extra < 0.05:
        text += " **" + rng.choice(WORDS) + "**"
    elif extra < 0.08:
        text += f" https://example.org/{rng.choice(WORDS)}/{rng.randint(1, 999)}"
    elif extra < 0.10:
        text = f"@{rng.choice(usernames)} " + text
    elif extra < 0.11:
        text += "\n`" + rng.choice(WORDS) + "()`"
    return text.capitalize()


def _app(db_path: Path):  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(PROJECT_ROOT))
    from chatapp import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "SECRET_KEY": SECRET_KEY, "SOCKETIO_ASYNC_MODE": "threading"})


def build(*, messages: int, out: Path, seed: int = 8) -> dict:
    """Migrate a fresh SQLite file, make the senders and rooms through the services, bulk-insert the messages."""
    from flask_migrate import upgrade

    started = time.monotonic()
    out.unlink(missing_ok=True)
    app = _app(out)
    from chatapp.extensions import db
    from chatapp.models import Message
    from chatapp.services import accounts
    from chatapp.services import rooms as room_service

    rng = random.Random(seed)
    with app.app_context():
        upgrade()
        users = [
            accounts.create_user(username=f"hist{n:02d}", password=PASSWORD, role="member", display_name=f"History {n}")
            for n in range(SENDERS)
        ]
        big = room_service.create_room(slug=ROOM, name="History", creator=None)
        others = [room_service.create_room(slug=f"{ROOM}-other-{n}", name=f"Other {n}", creator=None) for n in range(OTHER_ROOMS)]
        sender_ids, names = [u.id for u in users], [u.username for u in users]
        big_id, other_ids = big.id, [r.id for r in others]
        made = time.monotonic()
        connection = db.session.connection()
        connection.exec_driver_sql("PRAGMA synchronous=OFF")  # a throw-away build: no fsync
        clock = dt.datetime(2025, 1, 6, 8, 0, 0)
        next_id, in_big, rows, mentions = 1, 0, [], []
        while in_big < messages:
            room_id = big_id if rng.random() >= OTHER_SHARE or not other_ids else rng.choice(other_ids)
            in_big += room_id == big_id
            clock += dt.timedelta(seconds=rng.randint(1, 40))
            body = body_for(rng, names)
            # created_at as SQLAlchemy stores a DateTime in SQLite; the DBAPI's executemany, without
            # the ORM's per-row work, keeps a million rows to about half a minute.
            rows.append((next_id, room_id, rng.choice(sender_ids), body, clock.strftime("%Y-%m-%d %H:%M:%S.%f")))
            if body.startswith("@"):
                mentions.append((next_id, sender_ids[names.index(body[1:].split(" ", 1)[0].lower())]))
            next_id += 1
            if len(rows) >= CHUNK:
                connection.exec_driver_sql(INSERT_MESSAGE, rows)
                rows = []
        if rows:
            connection.exec_driver_sql(INSERT_MESSAGE, rows)
        if mentions:
            connection.exec_driver_sql("INSERT INTO message_mention (message_id, user_id) VALUES (?, ?)", mentions)
        db.session.commit()
        count = db.session.scalar(db.select(db.func.count()).select_from(Message).where(Message.room_id == big_id))
        db.session.execute(db.text("PRAGMA wal_checkpoint(TRUNCATE)"))  # all in the one file, which is then moved
        db.session.remove()
        db.engine.dispose()
    return {
        "messages_in_room": count,
        "messages_total": next_id - 1,
        "mentions": len(mentions),
        "senders": SENDERS,
        "build_seconds": round(time.monotonic() - started, 1),
        "insert_seconds": round(time.monotonic() - made, 1),
        "file_bytes": out.stat().st_size,
    }


def _quantiles(values: list[float]) -> dict:
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "p50": None, "p99": None, "max": None, "mean": None}
    return {
        "count": len(ordered),
        "p50": round(statistics.median(ordered), 3),
        "p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 3),
        "max": round(ordered[-1], 3),
        "mean": round(statistics.fmean(ordered), 3),
    }


def service(*, db_path: Path, pages: int, seed: int = 50, drop_index: bool = False, newest_repeats: int = 20) -> dict:
    """Time list_messages + to_dict for `pages` random `before` positions and the newest page, each in a fresh session."""
    from sqlalchemy import event

    app = _app(db_path)
    from chatapp.extensions import db
    from chatapp.models import Room, User
    from chatapp.services import messages as message_service
    from chatapp.services import rooms as room_service

    statements: list[tuple[str, object]] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append((statement, parameters))

    # Counted by SQLite itself: services/rows.py reads below SQLAlchemy's events. Statements
    # that triggers run come prefixed with "--": not the page's own.
    traced: list[str] = []

    def trace_on(dbapi_connection, record, proxy):  # type: ignore[no-untyped-def]
        dbapi_connection.set_trace_callback(lambda sql: None if sql.startswith("--") else traced.append(sql))

    def trace_off(dbapi_connection, record):  # type: ignore[no-untyped-def]
        dbapi_connection.set_trace_callback(None)

    with app.app_context():
        if drop_index:
            db.session.execute(db.text(f"DROP INDEX {INDEX_NAME}"))
            db.session.commit()
        room = db.session.scalar(db.select(Room).filter_by(slug=ROOM))
        user = db.session.scalar(db.select(User).filter_by(username="hist00"))
        room_service.enter_room(user=user, room=room)  # a member, as a reader would be (one write, before timing)
        user_id, room_id = user.id, room.id
        low, high = db.session.execute(
            db.select(db.func.min(db.text("id")), db.func.max(db.text("id"))).select_from(db.text("message")).where(db.text(f"room_id = {room_id}"))
        ).one()
        rng = random.Random(seed)
        befores: list[int | None] = [rng.randint(low + PAGE * 2, high) for _ in range(pages)]
        event.listen(db.engine, "before_cursor_execute", count)
        event.listen(db.engine, "checkout", trace_on)
        event.listen(db.engine, "checkin", trace_off)

        def one_page(before: int | None) -> tuple[float, float, int, float]:
            db.session.remove()  # a fresh session per page, like one event
            reader, where = db.session.get(User, user_id), db.session.get(Room, room_id)
            statements.clear()
            traced.clear()
            c0, t0 = time.process_time(), time.perf_counter()
            page = message_service.list_messages(user=reader, room=where, before=before, limit=PAGE)
            t1 = time.perf_counter()
            shown = [message.to_dict() for message in page.messages]
            t2, c2 = time.perf_counter(), time.process_time()
            # statements: those of the page alone; CPU time: what other processes on the core cannot lengthen
            return (t1 - t0) * 1000, (t2 - t1) * 1000, len(shown), (c2 - c0) * 1000

        one_page(None)  # warm-up: the pool's connection, the compiled-statement cache
        query_ms, dict_ms, total_ms, cpu_ms, counts, shown_counts = [], [], [], [], set(), set()
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for before in befores:
            q, d, n, c = one_page(before)
            cpu_ms.append(c)
            counts.add(len(traced))
            shown_counts.add(n)
            query_ms.append(q)
            dict_ms.append(d)
            total_ms.append(q + d)
        newest_ms = []
        for _ in range(newest_repeats):
            q, d, n, _ = one_page(None)
            counts.add(len(traced))
            newest_ms.append(q + d)
        # Under 1.0: the process waited for its core (other processes on it) or for the disk.
        cpu_share = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
        # The plan of the page query itself, exactly as the service sends it.
        db.session.remove()
        reader, where = db.session.get(User, user_id), db.session.get(Room, room_id)
        statements.clear()
        message_service.list_messages(user=reader, room=where, before=befores[0], limit=PAGE)
        page_sql = [(s, p) for s, p in statements if "FROM message" in s and "ORDER BY message.id DESC" in s]
        plan = []
        if page_sql:
            sql, params = page_sql[0]
            plan = [row[-1] for row in db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
        event.remove(db.engine, "before_cursor_execute", count)
        event.remove(db.engine, "checkout", trace_on)
        event.remove(db.engine, "checkin", trace_off)
        db.session.remove()
        db.engine.dispose()
    return {
        "room_low_id": low,
        "room_high_id": high,
        "pages": pages,
        "befores": befores,
        "index_dropped": drop_index,
        "messages_per_page": sorted(shown_counts),
        "statements_per_page": sorted(counts),
        "random_page_ms": _quantiles(total_ms),
        "random_page_query_ms": _quantiles(query_ms),
        "random_page_to_dict_ms": _quantiles(dict_ms),
        "random_page_cpu_ms": _quantiles(cpu_ms),
        "newest_page_ms": _quantiles(newest_ms),
        "cpu_share_while_timed": round(cpu_share, 3),
        "page_sql": page_sql[0][0] if page_sql else None,
        "query_plan": plan,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--messages", type=int, required=True)
    b.add_argument("--out", type=Path, required=True)
    s = sub.add_parser("service")
    s.add_argument("--db", type=Path, required=True)
    s.add_argument("--pages", type=int, default=200)
    s.add_argument("--seed", type=int, default=50)
    s.add_argument("--newest", type=int, default=20)
    s.add_argument("--drop-index", action="store_true", help=f"DROP INDEX {INDEX_NAME} first (a copy only!), to show what it buys")
    args = parser.parse_args(argv)
    if args.command == "build":
        result = build(messages=args.messages, out=args.out)
    else:
        result = service(db_path=args.db, pages=args.pages, seed=args.seed, drop_index=args.drop_index, newest_repeats=args.newest)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
