"""services/rows.py: the send path's driver-level reads give what the ORM would, column for column."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect

from chatapp.extensions import db
from chatapp.models import Ban, Membership, Room, User
from chatapp.services import rows


def _columns(obj) -> dict:
    return {attr.key: getattr(obj, attr.key) for attr in inspect(type(obj)).column_attrs}


def _orm(model, **where):
    db.session.remove()
    found = db.session.scalars(db.select(model).filter_by(**where)).first()
    return None if found is None else _columns(found)


def _rows(model, **where):
    db.session.remove()
    found = rows.find(model, **where)
    return None if found is None else _columns(found)


@pytest.mark.parametrize(
    "model, where",
    [
        (User, lambda ids: {"id": ids["alice"]}),
        (User, lambda ids: {"username": "staff"}),
        (Room, lambda ids: {"slug": "secret"}),
        (Membership, lambda ids: {"user_id": ids["alice"], "room_id": ids["secret"]}),
        (Ban, lambda ids: {"user_id": ids["bob"], "room_id": ids["secret"]}),
    ],
)
def test_find_gives_every_column_as_the_orm_loads_it(app, users, private_room, model, where):
    with app.app_context():
        db.session.add(Ban(user_id=users["bob"].id, room_id=private_room.id, banned_by_id=users["staff"].id))
        db.session.commit()
        ids = {name: user.id for name, user in users.items()} | {"secret": private_room.id}
        expected = _orm(model, **where(ids))
        assert expected is not None
        got = _rows(model, **where(ids))
        assert got == expected
        assert {key: type(value) for key, value in got.items()} == {key: type(value) for key, value in expected.items()}


def test_find_and_exists_miss_cleanly_and_found_objects_are_the_sessions(app, users, public_room):
    with app.app_context():
        assert rows.find(Room, slug="nowhere") is None
        assert rows.exists(Ban, user_id=users["alice"].id, room_id=public_room.id) is False
        assert rows.exists(Room, slug="lobby") is True
        room = rows.find(Room, slug="lobby")
        assert rows.first_id(Room, slug="lobby") == room.id and rows.first_id(Room, slug="nowhere") is None
        assert room in db.session and not db.session.dirty
        assert rows.by_id(Room, room.id) is room  # the identity map first, no second read
        room.name = "Renamed"
        # Like an ORM query, a read first writes the session's pending change.
        assert rows.find(Room, slug="lobby", name="Renamed") is room
