"""A bot posts through the API (a token, over real HTTP) and a member's open room page shows it, marked as a bot."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from chatapp.services import api_tokens, rooms

pytestmark = pytest.mark.browser


def test_a_bots_message_arrives_live_marked_and_stays_marked_after_a_reload(chat_server, open_room):
    with chat_server.app().app_context():
        bot = api_tokens.create_bot(actor=None, username="marks-bot", display_name="Marks bot")
        rooms.join_room(user=bot, room=rooms.get_room("lobby"))
        secret = api_tokens.issue_bot_token(actor=None, bot=bot, name="grades", scopes=["write"],
                                            expires_in_days=30).secret
    alice = open_room("alice")
    answer = requests.post(f"{chat_server.url}/api/v1/rooms/lobby/messages", timeout=10,
                           headers={"Authorization": f"Bearer {secret}"},
                           json={"body": "Marks for the quiz are in.", "client_id": "marks-1"})
    assert answer.status_code == 201, answer.text
    item = alice.item("Marks for the quiz are in.")
    expect(item.locator(".bot-mark")).to_have_text("Bot")  # built by the page's script, live
    alice.page.reload()
    expect(alice.item("Marks for the quiz are in.").locator(".bot-mark")).to_have_text("Bot")  # rendered by the server
    expect(alice.page.locator(".bot-mark")).to_have_count(1)
