"""Benchmark-only experiment: chatapp's own wsgi.py, its listening socket with TCP_NODELAY.

Not part of the app. The benchmark runs it beside the real entry point to show what
Nagle's algorithm costs chatapp (docs/performance.md): eventlet's listening socket
leaves Nagle on, so a second small frame written before the client ACKs the first
(`message`, then the `send` ack, to the same socket) waits for the client's delayed ACK.
Accepted sockets inherit TCP_NODELAY from the listening socket on Linux.
"""
import runpy
import socket
import sys
from pathlib import Path

import eventlet

eventlet.monkey_patch()

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_listen = eventlet.listen


def listen_without_nagle(*args, **kwargs):  # type: ignore[no-untyped-def]
    """eventlet.listen, then TCP_NODELAY on the listening socket."""
    sock = _listen(*args, **kwargs)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


eventlet.listen = listen_without_nagle  # Flask-SocketIO's run() looks it up at call time
sys.path.insert(0, str(PROJECT_ROOT))
runpy.run_path(str(PROJECT_ROOT / "wsgi.py"), run_name="__main__")
