"""A webhook receiver on 127.0.0.1 written from docs/webhooks.md ("Checking a call"), for the tests.

It checks each call's signature and timestamp exactly as the docs tell receivers to, drops a
repeated event id, and keeps every call it got. A test can make it answer with given statuses
first (`answers`), refuse some events' first tries (`refuse_first`), or answer slowly (`delay`).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

TOLERANCE_SECONDS = 300


class WebhookReceiver:
    """Accepts signed webhook calls on a free port of 127.0.0.1 until `close()`."""

    def __init__(self, *, delay: float = 0.0, refuse_first: Callable[[dict], int] | None = None) -> None:
        self.secret = b""
        self.delay = delay
        # For an event, how many of its first tries to refuse with 503 (0: none).
        self.refuse_first = refuse_first or (lambda event: 0)
        self.lock = threading.Lock()
        self.seen: set[str] = set()
        self.events: list[dict] = []  # the accepted events, once each, in order
        self.calls: list[dict] = []  # every call: headers, body, the status answered
        self.tries: dict[str, int] = {}  # event id -> calls that passed the check
        self.repeats = 0  # calls of an event id already accepted (answered 200, dropped)
        self.rejected = 0  # calls that failed the signature or timestamp check
        self.answers: list[int] = []  # statuses to answer next, before any check
        self.redirect_to = "/"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.handle(dict(self.headers), body)
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/chatapp"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def verify(self, headers: dict, body: bytes) -> bool:
        """docs/webhooks.md's check: a fresh timestamp, and a v1 signature of "timestamp.body" with our secret."""
        timestamp = headers.get("Webhook-Timestamp", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            return False
        expected = hmac.new(self.secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        given = [part[3:] for part in headers.get("Webhook-Signature", "").split() if part.startswith("v1=")]
        return any(hmac.compare_digest(expected, signature) for signature in given)

    def handle(self, headers: dict, body: bytes) -> int:
        with self.lock:
            forced = self.answers.pop(0) if self.answers else None
        status = forced if forced is not None else self._accept(headers, body)
        with self.lock:
            self.calls.append({"headers": headers, "body": body, "status": status})
        return status

    def _accept(self, headers: dict, body: bytes) -> int:
        if not self.verify(headers, body):
            with self.lock:
                self.rejected += 1
            return 400
        event = json.loads(body)
        event_id = headers["Webhook-Id"]
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.tries[event_id] = self.tries.get(event_id, 0) + 1
            if self.tries[event_id] <= self.refuse_first(event):
                return 503
            if event_id in self.seen:
                self.repeats += 1
                return 200
            self.seen.add(event_id)
            self.events.append(event)
        return 200

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict]:
        """The calls once at least `count` came (or whatever came by `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.calls) >= count:
                    break
            time.sleep(0.05)
        with self.lock:
            return list(self.calls)

    def types(self) -> list[str]:
        with self.lock:
            return [event["type"] for event in self.events]

    def accepted(self) -> int:
        with self.lock:
            return len(self.events)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
