"""The benchmark's second baseline: Node's room broadcast (../node-baseline/server.js) on chatapp's own stack.

python-socketio on eventlet's WSGI server, with nothing of chatapp: no Flask, no
login, no database, no rate limits, no presence. The events and answers are the Node
baseline's (join, send -> broadcast `message`, then ack). The transport settings are
chatapp's (wsgi.py and chatapp/config.py): TCP_NODELAY, the accept queue, no permessage-deflate,
the same ping and buffer sizes, the same garbage-collector tuning. So chatapp ÷ this is what the
app costs on its stack, and this ÷ Node is what the stack costs (docs/performance.md).
Serves on HOST:PORT (default 127.0.0.1:5100).
"""
import eventlet

eventlet.monkey_patch()

import gc  # noqa: E402
import itertools  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

import eventlet.wsgi  # noqa: E402
import socketio  # noqa: E402

sio = socketio.Server(async_mode="eventlet", max_http_buffer_size=64 * 1024, ping_interval=25, ping_timeout=20)
next_id = itertools.count(1)
USER = {"id": 1, "username": "bench", "display_name": "Bench", "role": "member"}


@sio.on("join")
def join(sid, data):
    if not isinstance(data, dict) or not isinstance(data.get("room"), str):
        return {"ok": False, "error": "invalid", "message": "room is required."}
    sio.enter_room(sid, "room:" + data["room"])
    return {"ok": True, "room": {"slug": data["room"], "name": data["room"], "kind": "public"}, "messages": [], "more": False}


@sio.on("send")
def send(sid, data):
    if not isinstance(data, dict) or not isinstance(data.get("room"), str) or not isinstance(data.get("body"), str):
        return {"ok": False, "error": "invalid", "message": "room and body are required."}
    client_id = data.get("client_id")
    message = {
        "id": next(next_id),
        "room": data["room"],
        "sender": USER,
        "body": data["body"],
        "client_id": client_id if isinstance(client_id, str) else None,
        "created_at": datetime.now(timezone.utc).isoformat(),
    }
    sio.emit("message", message, to="room:" + data["room"])
    return {"ok": True, "message": message}


def healthz(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"ok":true}']


def without_compression(wsgi_app):
    """Offer no WebSocket extensions to eventlet, as chatapp does by default (chatapp/transport.py)."""

    def app(environ, start_response):
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return wsgi_app(environ, start_response)

    return app


if __name__ == "__main__":
    gc.collect()
    gc.freeze()
    gc.set_threshold(int(os.environ.get("GC_GEN0_THRESHOLD", "10000")), *gc.get_threshold()[1:])
    listener = eventlet.listen((os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "5100"))),
                               backlog=int(os.environ.get("LISTEN_BACKLOG", "1024")))
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print(f"python-socketio baseline serving on http://{listener.getsockname()[0]}:{listener.getsockname()[1]}", flush=True)
    eventlet.wsgi.server(listener, without_compression(socketio.WSGIApp(sio, healthz)), log_output=False, max_size=10000)
