"""E-mail: one message built safely in the recipient's language, sent by SMTP or written to the log.

Jobs that e-mail (services/mail_jobs.py and others) build their message with `compose` and send
it with `deliver`, from the outbox's worker, never from a request. Headers are built by the
standard library's `email` package with its SMTP policy, which encodes every non-ASCII or
special character (RFC 2047) and refuses CR or LF in a header value: a display name or subject
typed by a user cannot add a header. Bodies: a plain-text part and an HTML part, the HTML one
rendered from a Jinja template with autoescaping, so the user's text is escaped.
"""
from __future__ import annotations

import logging
import os
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from flask import current_app, render_template
from flask_babel import force_locale

from .outbox import Permanent

log = logging.getLogger(__name__)

# Header values (display names, subjects) are cut to this, after their line breaks became spaces.
MAX_HEADER_TEXT = 200


class MailRefused(Permanent):
    """The SMTP server refused the message for good (every recipient refused): no retry mends it."""


def public_url() -> str:
    """This chatapp's public address, for links in e-mails: CHATAPP_URL, else http://HOST:PORT."""
    configured = current_app.config.get("CHATAPP_URL")
    if configured:
        return str(configured).rstrip("/")
    return f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"


def header_text(value: object) -> str:
    """Text safe to put in a header: line breaks and other control characters become spaces, cut to length."""
    text = "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in str(value or ""))
    return " ".join(text.split())[:MAX_HEADER_TEXT]


def mailbox(address: str, name: object = None) -> Address:
    """An addressee for a header: the address as given (checked by the caller), the display name made safe."""
    local, _, domain = address.rpartition("@")
    return Address(display_name=header_text(name), username=local, domain=domain)


def sender() -> Address:
    """MAIL_FROM as an Address."""
    name, address = parseaddr(current_app.config["MAIL_FROM"])
    return mailbox(address or "chatapp@localhost", name)


def message_id(event_id: str) -> str:
    """The Message-ID of the e-mail of an outbox job: stable across its tries, so a receiver drops a repeat."""
    domain = sender().domain or "localhost"
    return f"<{event_id}@{domain}>"


def compose(
    *, to: Address, subject: object, text: str, html: str, event_id: str, language: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """One e-mail with a plain-text and an HTML part; `headers` are fixed strings of ours (List-Unsubscribe)."""
    message = EmailMessage()
    message["From"] = sender()
    message["To"] = to
    message["Subject"] = header_text(subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id(event_id)
    # Replies of a mail server ("out of office") must not come back to a mailbox nobody reads as if to a person.
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if language:  # after the parts: making the message multipart moves Content-* headers into its first part
        message["Content-Language"] = language.replace("_", "-")
    return message


def render(template: str, *, language: str | None, **context: object) -> tuple[str, str, str]:
    """The subject, plain text and HTML of mail/<template>.txt and .html, in `language` ("en" if None).

    Each template sets `subject` with {% set subject = ... %}; the HTML one extends mail/base.html
    (autoescaped: the user's text is escaped), the text one is plain (not autoescaped: .txt).
    """
    language = language or "en"
    with force_locale(language):
        html = render_template(f"mail/{template}.html", language=language, **context)
        module = current_app.jinja_env.get_template(f"mail/{template}.txt").make_module(
            {"language": language, **current_app.jinja_env.globals, **context}
        )
        text = str(module)
        subject = str(getattr(module, "subject", ""))
    return header_text(subject), text.strip() + "\n", html


def deliver(message: EmailMessage) -> None:
    """Send message by SMTP with the configured server, or write it to the log when none is configured.

    Raises on failure (the outbox tries again later), MailRefused when every recipient was refused.
    """
    config = current_app.config
    host = config.get("SMTP_HOST")
    if not host:
        log.info("e-mail (no SMTP_HOST set, so not sent):\n%s", message.as_string())
        return
    security = config["SMTP_SECURITY"]
    timeout = config["SMTP_TIMEOUT_SECONDS"]
    port = int(config["SMTP_PORT"])
    if security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USERNAME"):
            client.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
        try:
            client.send_message(message)
        except smtplib.SMTPRecipientsRefused as refused:
            raise MailRefused(f"the SMTP server refused every recipient: {refused.recipients}") from refused
