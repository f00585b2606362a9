"""The room list, creating and joining rooms, and the room page."""
from flask import Blueprint

bp = Blueprint("rooms", __name__)

from . import class_list, routes  # noqa: E402,F401
