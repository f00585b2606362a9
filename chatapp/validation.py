"""Checking the shape of event payloads before any rule sees them."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .services.errors import ServiceError

_TYPE_NAMES = {str: _l("a string"), int: _l("a whole number"), bool: _l("true or false"), dict: _l("an object"),
               list: _l("a list")}


def _is(value: Any, kind: type) -> bool:
    # bool is a subclass of int in Python, but not a number in the protocol.
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _wrong_type(name: str, kind: type) -> ServiceError:
    return ServiceError("invalid", _("'%(name)s' must be %(kind)s.", name=name, kind=_TYPE_NAMES[kind]))


def parse_payload(data: Any, *, required: dict[str, type], optional: dict[str, type] | None = None) -> dict[str, Any]:
    """Return data if it is an object with exactly these fields of these types; else raise invalid.

    Optional fields given as null count as absent.
    """
    optional = optional or {}
    if not isinstance(data, dict):
        fields = ", ".join(list(required) + [f"{name}?" for name in optional])
        raise ServiceError("invalid", _("The payload must be an object with: %(fields)s.", fields=fields))
    unknown = sorted(str(name) for name in data if name not in required and name not in optional)
    if unknown:
        raise ServiceError("invalid", _("Unknown field(s): %(fields)s.", fields=", ".join(unknown)[:200]))
    parsed: dict[str, Any] = {}
    for name, kind in required.items():
        if name not in data or data[name] is None:
            raise ServiceError("invalid", _("'%(name)s' is required.", name=name))
        if not _is(data[name], kind):
            raise _wrong_type(name, kind)
        parsed[name] = data[name]
    for name, kind in optional.items():
        value = data.get(name)
        if value is None:
            parsed[name] = None
        elif not _is(value, kind):
            raise _wrong_type(name, kind)
        else:
            parsed[name] = value
    return parsed
