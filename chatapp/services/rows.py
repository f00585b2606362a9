"""The send path's database reads and writes in Core, handed to the ORM as loaded objects.

On every send, the ORM's statement building, loading and unit of work cost more than the SQL
itself (docs/performance.md, "Where a send's time goes"). These run one compiled Core
statement, built once, and give back the same persistent objects the ORM would.
"""
from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import make_transient_to_detached

from ..extensions import db

M = TypeVar("M")

_STATEMENTS: dict[tuple, Any] = {}


def adopt(model: type[M], row: dict[str, Any]) -> M:
    """A persistent, loaded `model` in this session from a row of every column (the one there if it is there)."""
    found = db.session.identity_map.get(inspect(model).identity_key_from_primary_key((row["id"],)))
    if found is not None:
        return found
    # SQLAlchemy's public way to say "this object is already in the database, as given":
    # its attributes count as loaded and unchanged, and adding it makes it persistent.
    instance = model(**row)
    make_transient_to_detached(instance)
    db.session.add(instance)
    return instance


def find(model: type[M], **where: Any) -> M | None:
    """The one `model` row matching every column=value in where, or None: like scalar(select(model).filter_by(...))."""
    _autoflush()
    statement = _statement("row", model, tuple(where))
    row = db.session.connection().execute(statement, where).mappings().first()
    return None if row is None else adopt(model, dict(row))


def exists(model: type[M], **where: Any) -> bool:
    """Whether a `model` row matches every column=value in where."""
    _autoflush()
    statement = _statement("id", model, tuple(where))
    return db.session.connection().execute(statement, where).first() is not None


def by_id(model: type[M], object_id: int) -> M | None:
    """session.get(model, id) without the ORM's loader."""
    found = db.session.identity_map.get(inspect(model).identity_key_from_primary_key((object_id,)))
    return found if found is not None else find(model, id=object_id)


def _statement(what: str, model: type, columns: tuple[str, ...]) -> Any:
    statement = _STATEMENTS.get((what, model, columns))
    if statement is None:
        table = model.__table__  # type: ignore[attr-defined]
        select = db.select(table.c.id) if what == "id" else table.select()
        statement = select.where(*(table.c[name] == db.bindparam(name) for name in columns)).limit(1)
        _STATEMENTS[(what, model, columns)] = statement
    return statement


def _autoflush() -> None:
    """What the ORM does before a query: write pending changes first, so that the query sees them."""
    session = db.session()
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
