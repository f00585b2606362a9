"""The send path's database reads, handed to the ORM as loaded objects.

On every send, the ORM's statement building, loading and unit of work cost more than the SQL
itself (docs/performance.md, "Where a send's time goes"), and so did Core's execution of a
cached statement (about 25 µs a read against 4 for the driver's). These compile one Core
statement per dialect, once, run its SQL on the session's own DBAPI connection (in its
transaction), convert the row with the column types' own result processors, and give back
the same persistent objects the ORM would. Being below SQLAlchemy's Connection, they are not
seen by its events (`before_cursor_execute`) or its echo.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import make_transient_to_detached

from ..extensions import db

M = TypeVar("M")


@dataclass(frozen=True)
class _Read:
    """A statement compiled for one dialect: its SQL, how to bind its parameters, how to read its row."""

    sql: str
    order: tuple[str, ...] | None  # the parameters' names in order (positional paramstyles), or None (named)
    fixed: dict[str, Any]  # parameters with a value of their own (LIMIT's)
    binds: dict[str, Callable[[Any], Any]]  # the where columns' bind processors, where they have one
    names: tuple[str, ...]
    results: tuple[Callable[[Any], Any] | None, ...]  # the columns' result processors


_READS: dict[tuple, _Read] = {}


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
    row = _fetch("row", model, where)
    return None if row is None else adopt(model, row)


def first_id(model: type, **where: Any) -> int | None:
    """The id of a `model` row matching every column=value in where, or None."""
    row = _fetch("id", model, where)
    return None if row is None else row["id"]


def exists(model: type, **where: Any) -> bool:
    """Whether a `model` row matches every column=value in where."""
    return first_id(model, **where) is not None


def by_id(model: type[M], object_id: int) -> M | None:
    """session.get(model, id) without the ORM's loader."""
    found = db.session.identity_map.get(inspect(model).identity_key_from_primary_key((object_id,)))
    return found if found is not None else find(model, id=object_id)


def _fetch(what: str, model: type, where: dict[str, Any]) -> dict[str, Any] | None:
    """The first row of the ("row": every column, "id": the id) read of model matching where, converted, or None."""
    _autoflush()
    connection = db.session.connection()  # the session's connection, in its transaction
    read = _read(what, model, tuple(where), connection.dialect)
    values = {**read.fixed, **where}
    for name, process in read.binds.items():
        values[name] = process(values[name])
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(read.sql, values if read.order is None else [values[name] for name in read.order])
        found = cursor.fetchone()
    finally:
        cursor.close()
    if found is None:
        return None
    return {
        name: value if process is None else process(value)
        for name, process, value in zip(read.names, read.results, found, strict=True)
    }


def _read(what: str, model: type, columns: tuple[str, ...], dialect: Any) -> _Read:
    read = _READS.get((what, model, columns, dialect.name))
    if read is None:
        table = model.__table__  # type: ignore[attr-defined]
        select = db.select(table.c.id) if what == "id" else table.select()
        statement = select.where(*(table.c[name] == db.bindparam(name) for name in columns)).limit(1)
        compiled = statement.compile(dialect=dialect)
        binds = {name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns}
        selected = list(statement.selected_columns)
        read = _Read(
            sql=compiled.string,
            order=tuple(compiled.positiontup) if compiled.positional else None,
            fixed={
                name: value
                for name, value in compiled.construct_params(dict.fromkeys(columns)).items()
                if name not in columns
            },
            binds={name: process for name, process in binds.items() if process is not None},
            names=tuple(column.name for column in selected),
            results=tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in selected),
        )
        _READS[(what, model, columns, dialect.name)] = read
    return read


def _autoflush() -> None:
    """What the ORM does before a query: write pending changes first, so that the query sees them."""
    session = db.session()
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()


def rows_changed(statement: Any) -> int:
    """Run an UPDATE or DELETE in the session (its ORM objects left as they are); how many rows it changed.

    The claims of the app (a sign-in code used once, a picture sent once, a status announced once,
    a conversation assigned once) are conditional updates whose count says who won.
    """
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    return result.rowcount  # type: ignore[attr-defined]  # an UPDATE's or DELETE's result is a CursorResult
