"""A real SMTP server on 127.0.0.1 (aiosmtpd) for the e-mail tests, and the app pointed at it."""
from __future__ import annotations

import email
import email.policy
import socket
import threading
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


class Mailbox:
    """What the SMTP server received: each message parsed, with its envelope."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's handler hook
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.arrived:
            self.messages.append(parsed)  # type: ignore[arg-type]  # policy.default parses into EmailMessage
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The messages once at least `count` arrived (or whatever arrived by `timeout` seconds)."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
            return list(self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        """The messages addressed to `address`."""
        return [message for message in self.messages if address in str(message["To"])]


@pytest.fixture
def smtp_server():
    """A real SMTP server on a free port of 127.0.0.1; its `.mailbox` holds what it received."""
    mailbox = Mailbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks it is serving by connecting to it)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    controller.mailbox = mailbox  # type: ignore[attr-defined]
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture
def mailbox(app, smtp_server) -> Mailbox:
    """The app sends its e-mails to the test SMTP server (plain SMTP on 127.0.0.1); what arrives is here."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port,
                      SMTP_SECURITY="none", MAIL_FROM="Chatapp Desk <desk@chat.example>")
    return smtp_server.mailbox
