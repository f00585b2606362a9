"""The server entry point: the async mode's monkey-patching, the app, and that mode's WSGI server.

`python wsgi.py` serves on HOST:PORT (default 127.0.0.1:5000) under eventlet, or under gevent
when ASYNC_MODE=gevent (docs/deployment.md, "Eventlet or gevent"). Only this file knows which
one runs. `flask --app wsgi ...` imports this module for the CLI, where no monkey-patching is wanted.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for the annotations; the code imports what it uses after the monkey-patching
    import socket

# psycopg 3 (PostgreSQL) waits on its socket in C unless told to use select(), which eventlet
# and gevent (here, or in gunicorn's workers) make cooperative: without this, one slow query
# would stall every client of the process. Harmless without them.
os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

# The green-thread library the server runs on. eventlet is the default; it prints its own
# deprecation notice at every start, and gevent is the way off it.
ASYNC_MODES = ("eventlet", "gevent")
ASYNC_MODE = os.environ.get("ASYNC_MODE", "eventlet").strip().lower()

if __name__ == "__main__":
    if ASYNC_MODE not in ASYNC_MODES:
        raise SystemExit(f"ASYNC_MODE={ASYNC_MODE!r}: choose one of {', '.join(ASYNC_MODES)}")
    # First, before anything imports socket, threading or time.
    if ASYNC_MODE == "gevent":
        from gevent import monkey

        monkey.patch_all()
    else:
        import eventlet

        eventlet.monkey_patch()

from chatapp import create_app  # noqa: E402
from chatapp.extensions import socketio  # noqa: E402

# Flask-SocketIO would pick eventlet whenever it is installed: tell it the one that runs.
app = create_app({"SOCKETIO_ASYNC_MODE": ASYNC_MODE})

# Python's default (700, 10, 10) runs a young collection every 700 new objects, and a full one
# every 100 of those; a broadcast to 500 sockets makes thousands of short-lived objects, and each
# full collection walks every live connection's objects: 60 to 100 ms pauses, the p99 of a big
# room (docs/performance.md, "Garbage collection pauses").
GC_GEN0_THRESHOLD = 10_000
# Connections the kernel may hold for the server before it accepts them (see serve()).
LISTEN_BACKLOG = 1024


def tune_gc(gen0_threshold: int = GC_GEN0_THRESHOLD) -> None:
    """Freeze what start-up made (modules, the app) out of the collector's walks; collect young objects less often.

    Full collections still run (every 100 young ones, as before), so reference cycles are still
    freed; they come 14 times less often and skip the frozen start-up objects. 0 leaves Python's defaults.
    """
    import gc

    if gen0_threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)


def serve(host: str, port: int) -> None:
    """Serve app with the async mode's WSGI server, tuned for many small, chatty connections."""
    max_connections = int(os.environ.get("MAX_CONNECTIONS", "10000"))
    # Each connection is a file descriptor: lift the soft limit as far as the hard one allows.
    raise_open_files_limit(max_connections + 256)
    listener = listen(host, port, int(os.environ.get("LISTEN_BACKLOG", str(LISTEN_BACKLOG))))
    access_log = os.environ.get("ACCESS_LOG", "") == "1"
    # The mode the Socket.IO server itself chose, which tests/test_live.py checks against ASYNC_MODE.
    print(f"chatapp serving on http://{host}:{port} under {socketio.server.eio.async_mode}", flush=True)
    if ASYNC_MODE == "gevent":
        from gevent.pool import Pool
        from gevent.pywsgi import WSGIServer

        # The pool caps concurrent connections, as max_size does under eventlet.
        WSGIServer(listener, app, spawn=Pool(max_connections), handler_class=gevent_handler(),
                   log="default" if access_log else None).serve_forever()
    else:
        import eventlet.wsgi

        # max_size: concurrent connections (eventlet's default of 1024 refuses the 1025th idle socket).
        eventlet.wsgi.server(listener, app, log_output=access_log, max_size=max_connections)


def gevent_handler() -> type:
    """gevent's WSGI request handler, closing the connection once a WebSocket on it has ended.

    python-engineio serves WebSocket upgrades on gevent's own WSGI server with simple-websocket,
    as Flask-SocketIO's run() does (gevent-websocket, unmaintained, must not be installed: engineio
    would then expect its handler). When the WebSocket ends, gevent's handler would go on
    reading the socket as keep-alive HTTP: the client's closing frames were answered with
    "400 Invalid HTTP method" and its close waited for a TCP close that never came.
    """
    from gevent.pywsgi import WSGIHandler

    class Handler(WSGIHandler):
        def handle_one_response(self) -> None:
            super().handle_one_response()
            if self.environ.get("HTTP_UPGRADE", "").lower() == "websocket":
                self.close_connection = True

    return Handler


def raise_open_files_limit(wanted: int) -> None:
    """Lift the soft limit on open files to `wanted`, or as near as the hard limit allows."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY:
        wanted = min(hard, wanted)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def listen(host: str, port: int, backlog: int) -> socket.socket:
    """The listening socket, green under either mode's monkey-patching (as eventlet.listen made it)."""
    import socket

    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    # Accepted sockets inherit TCP_NODELAY: without it Nagle's algorithm holds an ack written
    # right after a broadcast frame until the client's delayed ACK (~40 ms; docs/performance.md).
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind(address)
    # The accept queue: eventlet's default of 50 overflowed when a broadcast woke a hundred
    # long-polling clients at once; the kernel drops the excess SYNs and each client retries
    # a second later (the long-polling p99 of ~920 ms; docs/performance.md). The kernel caps
    # it at net.core.somaxconn.
    listener.listen(backlog)
    return listener


if __name__ == "__main__":
    from chatapp.worker import start_in_server

    # The outbox's workers, beside the server (OUTBOX_WORKER; `flask --app wsgi worker` is the other way).
    start_in_server(app)
    tune_gc(int(os.environ.get("GC_GEN0_THRESHOLD", str(GC_GEN0_THRESHOLD))))
    serve(os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "5000")))
