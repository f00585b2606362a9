"""E-mail (services/mail.py): built safely, sent to a real SMTP server on 127.0.0.1, or written to the log."""
from __future__ import annotations

import logging

from chatapp.services import mail


def _message(**overrides):
    values = {
        "to": mail.mailbox("visitor@example.org", "Mallory\r\nBcc: victim@example.org"),
        "subject": "Hello\r\nX-Injected: yes",
        "text": "Plain <b>text</b>",
        "html": "<p>&lt;b&gt;html&lt;/b&gt;</p>",
        "event_id": "0123456789abcdef0123456789abcdef",
        "language": "zh_CN",
        "headers": {"List-Unsubscribe": "<https://chat.example/unsubscribe/x>"},
    }
    values.update(overrides)
    return mail.compose(**values)


def test_an_e_mail_reaches_a_real_smtp_server_with_both_parts_and_a_stable_message_id(app, mailbox):
    with app.app_context():
        mail.deliver(_message())
    [received] = mailbox.wait_for(1)
    assert received["Message-ID"] == "<0123456789abcdef0123456789abcdef@chat.example>"
    assert received["From"].addresses[0].addr_spec == "desk@chat.example"
    assert received["Content-Language"] == "zh-CN"
    assert received.get_body(("plain",)).get_content().strip() == "Plain <b>text</b>"
    assert "&lt;b&gt;" in received.get_body(("html",)).get_content()
    assert received["List-Unsubscribe"] == "<https://chat.example/unsubscribe/x>"


def test_a_display_name_or_subject_with_line_breaks_cannot_add_a_header(app, mailbox):
    with app.app_context():
        mail.deliver(_message())
    [received] = mailbox.wait_for(1)
    assert received["Bcc"] is None and received["X-Injected"] is None
    assert mailbox.envelopes[0][1] == ["visitor@example.org"]  # nobody else got it
    assert received["To"].addresses[0].display_name == "Mallory Bcc: victim@example.org"
    assert str(received["Subject"]) == "Hello X-Injected: yes"


def test_chinese_names_and_subjects_are_encoded_and_read_back(app, mailbox):
    with app.app_context():
        mail.deliver(_message(to=mail.mailbox("li@example.org", "李雷"), subject="您的对话有新回复"))
    [received] = mailbox.wait_for(1)
    assert received["To"].addresses[0].display_name == "李雷"
    assert str(received["Subject"]) == "您的对话有新回复"


def test_without_an_smtp_server_e_mails_are_written_to_the_log(app, caplog):
    app.config["SMTP_HOST"] = None
    with app.app_context(), caplog.at_level(logging.INFO, logger="chatapp.services.mail"):
        mail.deliver(_message())
    assert "not sent" in caplog.text and "visitor@example.org" in caplog.text


def test_a_refused_recipient_is_a_permanent_failure(app, smtp_server, mailbox):
    async def refuse(server, session, envelope, address, rcpt_options):
        return "550 no such user"

    mailbox.handle_RCPT = refuse  # aiosmtpd asks the handler about each recipient
    with app.app_context():
        try:
            mail.deliver(_message())
        except mail.MailRefused as refused:
            assert "refused" in str(refused)
        else:
            raise AssertionError("a refused recipient must raise MailRefused")
