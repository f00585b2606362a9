"""The server entry point: eventlet monkey-patching, the app, and eventlet's WSGI server.

`python wsgi.py` serves on HOST:PORT (default 127.0.0.1:5000). `flask --app wsgi ...`
imports this module for the CLI, where no monkey-patching is wanted.
"""
import os

# psycopg 3 (PostgreSQL) waits on its socket in C unless told to use select(), which
# eventlet (here, or gunicorn's eventlet worker) makes cooperative: without this, one slow
# query would stall every client of the process. Harmless without eventlet.
os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

if __name__ == "__main__":
    import eventlet

    eventlet.monkey_patch()

from chatapp import create_app  # noqa: E402

app = create_app()

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
    """Serve app with eventlet's WSGI server, tuned for many small, chatty connections."""
    import resource
    import socket

    import eventlet.wsgi

    max_connections = int(os.environ.get("MAX_CONNECTIONS", "10000"))
    # Each connection is a file descriptor: lift the soft limit as far as the hard one allows.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max_connections + 256 if hard == resource.RLIM_INFINITY else min(hard, max_connections + 256)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    # The accept queue: eventlet's default of 50 overflowed when a broadcast woke a hundred
    # long-polling clients at once; the kernel drops the excess SYNs and each client retries
    # a second later (the long-polling p99 of ~920 ms; docs/performance.md). The kernel caps
    # it at net.core.somaxconn.
    listener = eventlet.listen(address, family, backlog=int(os.environ.get("LISTEN_BACKLOG", str(LISTEN_BACKLOG))))
    # Accepted sockets inherit TCP_NODELAY: without it Nagle's algorithm holds an ack written
    # right after a broadcast frame until the client's delayed ACK (~40 ms; docs/performance.md).
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print(f"chatapp serving on http://{host}:{port}", flush=True)
    # max_size: concurrent connections (eventlet's default of 1024 refuses the 1025th idle socket).
    eventlet.wsgi.server(listener, app, log_output=os.environ.get("ACCESS_LOG", "") == "1", max_size=max_connections)


if __name__ == "__main__":
    tune_gc(int(os.environ.get("GC_GEN0_THRESHOLD", str(GC_GEN0_THRESHOLD))))
    serve(os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "5000")))
