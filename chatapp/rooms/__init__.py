"""The room list, creating and joining rooms, and the room page."""
from . import archive, attendance, class_list, homework, polls, routes  # noqa: E402,F401 - their views register on the blueprint
from .blueprint import bp

__all__ = ["bp"]
