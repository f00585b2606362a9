"""The room list, creating and joining rooms, and the room page."""
from .blueprint import bp

from . import class_list, routes  # noqa: E402,F401 - their views register on the blueprint

__all__ = ["bp"]
