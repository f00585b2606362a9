"""The rooms blueprint itself: its views live in archive.py, class_list.py, routes.py."""
from flask import Blueprint

bp = Blueprint("rooms", __name__)
