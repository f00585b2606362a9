"""Fixtures and helpers for the support desk tests: sites, visitors and their sockets."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from chatapp.extensions import db, socketio
from chatapp.models import Conversation, Room, User
from chatapp.services import sites, visitors

SHOP = "https://shop.example"
OTHER_SHOP = "https://other.example"
IDENTITY_SECRET = "s3cret-identity-key-0123456789"
OWN_ORIGIN = "http://localhost"  # the Flask test client's host


@dataclass(frozen=True)
class Visitor:
    """A visitor started through the real session service: ids and tokens, usable outside any app context."""

    id: int
    token: str
    notify_token: str
    room: str
    site_id: int


def start_visitor(app, site_key: str, **kwargs) -> Visitor:
    """Start (or resume, with visitor_token=) a visitor's session on a site."""
    kwargs.setdefault("own_origin", OWN_ORIGIN)
    with app.app_context():
        started = visitors.start_session(site_key=site_key, **kwargs)
        return Visitor(
            id=started.visitor.id, token=started.visitor_token, notify_token=started.notify_token,
            room=started.conversation.room.slug, site_id=started.site.id,
        )


def make_site(app, name: str = "Shop", origins=(SHOP,), **kwargs) -> str:
    """Register a site; return its key."""
    with app.app_context():
        return sites.create_site(actor=None, name=name, origins=list(origins), **kwargs).site_key


@pytest.fixture
def site_key(app) -> str:
    """A site on https://shop.example with an identity secret."""
    return make_site(app, identity_secret=IDENTITY_SECRET)


@pytest.fixture
def other_site_key(app) -> str:
    """A second site, on https://other.example."""
    return make_site(app, name="Other shop", origins=(OTHER_SHOP,))


@pytest.fixture
def written_conversation(app, users, site_key) -> int:
    """The id of a support conversation its visitor wrote in (so it is in the queue), unassigned."""
    from chatapp.services import rooms, support

    visitor = start_visitor(app, site_key)
    with app.app_context():
        room = rooms.get_room(visitor.room)
        support.post_to_conversation(sender=db.session.get(User, visitor.id), room=room, body="Help, please",
                                     client_id="v1")
        return db.session.scalar(db.select(Conversation.id).filter_by(room_id=room.id))


@pytest.fixture
def visitor_socket(app):
    """visitor_socket(visitor) is a Socket.IO test client connected with the visitor's token."""
    opened = []

    def connect(visitor: Visitor | None = None, auth: dict | None = None):
        sock = socketio.test_client(app, auth=auth if auth is not None else {"visitor_token": visitor.token})
        opened.append(sock)
        return sock

    yield connect
    for sock in opened:
        if sock.is_connected():
            sock.disconnect()


def conversation_of(app, visitor: Visitor) -> dict:
    """The stored state of a visitor's conversation."""
    with app.app_context():
        conversation = db.session.scalar(db.select(Conversation).filter_by(visitor_id=visitor.id))
        return {
            "status": conversation.status,
            "assignee": conversation.assignee.username if conversation.assignee else None,
            "rating": conversation.rating,
            "rating_comment": conversation.rating_comment,
            "last_message_at": conversation.last_message_at,
        }


def user(app, user_id: int) -> User:
    """A user row, loaded in a fresh context and detached."""
    with app.app_context():
        row = db.session.get(User, user_id)
        db.session.expunge(row)
        return row


def room(app, slug: str) -> Room:
    """A room row, loaded and detached."""
    with app.app_context():
        row = db.session.scalar(db.select(Room).filter_by(slug=slug))
        db.session.expunge(row)
        return row
