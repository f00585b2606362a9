"""The one domain error type; its code is one of the protocol's error codes."""
from __future__ import annotations

from typing import Any

ERROR_CODES = ("unauthorized", "forbidden", "not_found", "invalid", "rate_limited", "too_large", "conflict")

HTTP_STATUS = {
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "invalid": 400,
    "rate_limited": 429,
    "too_large": 413,
    "conflict": 409,
}


class ServiceError(Exception):
    """A rule said no; `code` is a protocol error code and `message` is for people."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        assert code in ERROR_CODES, code
        message = str(message)  # a lazy_gettext constant becomes text in the requester's language now
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra

    @property
    def http_status(self) -> int:
        """The HTTP status that carries this error."""
        return HTTP_STATUS[self.code]

    def to_dict(self) -> dict:
        """The protocol's error ack: {"ok": false, "error": CODE, "message": TEXT, ...}."""
        return {"ok": False, "error": self.code, "message": self.message, **self.extra}
