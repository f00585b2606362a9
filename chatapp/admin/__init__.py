"""The admin's pages: accounts, widget sites, teams and conversation labels."""
from . import labels, routes, sites, teams  # noqa: E402,F401 - their views register on the blueprint
from .blueprint import bp

__all__ = ["bp"]
