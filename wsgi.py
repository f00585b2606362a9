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
    listener = eventlet.listen(address, family)
    # Accepted sockets inherit TCP_NODELAY: without it Nagle's algorithm holds an ack written
    # right after a broadcast frame until the client's delayed ACK (~40 ms; docs/performance.md).
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print(f"chatapp serving on http://{host}:{port}", flush=True)
    # max_size: concurrent connections (eventlet's default of 1024 refuses the 1025th idle socket).
    eventlet.wsgi.server(listener, app, log_output=os.environ.get("ACCESS_LOG", "") == "1", max_size=max_connections)


if __name__ == "__main__":
    serve(os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "5000")))
