"""Transport settings that Socket.IO has no option for, applied as WSGI middleware, and the socket events' session."""
from __future__ import annotations

from typing import Any, Callable, Iterable

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

WSGIApp = Callable[[dict, Callable[..., Any]], Iterable[bytes]]

PERMESSAGE_DEFLATE = "permessage-deflate"


def without_offer(header: str, extension: str) -> str:
    """A Sec-WebSocket-Extensions header with every offer of `extension` taken out."""
    kept = [offer for offer in header.split(",") if offer.split(";")[0].strip().lower() != extension]
    return ",".join(kept).strip()


def refuse_websocket_compression(wsgi_app: WSGIApp) -> WSGIApp:
    """Wrap wsgi_app so that no WebSocket handshake negotiates permessage-deflate.

    The WebSocket servers under python-engineio (eventlet's, and simple-websocket for
    gevent and threads) accept permessage-deflate whenever the client offers it, and
    browsers always do. Then every frame is compressed separately for each recipient,
    which dominates a room broadcast's CPU (docs/performance.md). Hiding the offer from
    them is the one switch that works the same under every async mode.
    """

    def app(environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        offered = environ.get("HTTP_SEC_WEBSOCKET_EXTENSIONS")
        if offered is not None:
            rest = without_offer(offered, PERMESSAGE_DEFLATE)
            if rest:
                environ["HTTP_SEC_WEBSOCKET_EXTENSIONS"] = rest
            else:
                del environ["HTTP_SEC_WEBSOCKET_EXTENSIONS"]
        return wsgi_app(environ, start_response)

    return app


def allow_polling_batches(max_http_buffer_size: int) -> None:
    """Let one long-polling POST carry as many packets as its byte limit allows.

    python-engineio decodes at most 16 packets per POST (a process-wide class setting) and
    silently drops the whole POST above that, answering 200 OK. A browser on the polling
    fallback flushing an outbox of 17 messages after a reconnect would lose them all until
    their retry timers fired. The byte limit (max_http_buffer_size) already bounds the
    work, so allow one packet per 64 bytes of it.
    """
    from engineio.payload import Payload

    Payload.max_decode_packets = max(Payload.max_decode_packets, max_http_buffer_size // 64)


# Where Flask-SocketIO keeps a socket's session, in the socket's WSGI environ, from its
# connect on (flask_socketio.SocketIO._handle_event, manage_session on).
SOCKET_SESSION_KEY = "saved_session"


class SocketSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that a socket's events reuse the session their socket already has.

    Flask opens the session (verifies and decodes the cookie) on every request context it
    pushes, and Flask-SocketIO pushes one for every event, then replaces that session with
    the socket's own copy, made at its connect. The decoding was about a twentieth of a
    send's CPU (docs/performance.md). Handing the socket's copy over at once gives each event
    the same session as before. A connect, and every HTTP request, still reads the cookie.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        saved = request.environ.get(SOCKET_SESSION_KEY)
        if saved is not None:
            return saved
        return super().open_session(app, request)
