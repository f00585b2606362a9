"""The rules of chatapp: every door (socket, HTTP, CLI, tests) calls these functions."""
from .errors import ServiceError

__all__ = ["ServiceError"]
