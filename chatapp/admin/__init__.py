"""The admin's pages: accounts, widget sites and teams."""
from . import routes, sites, teams  # noqa: E402,F401 - their views register on the blueprint
from .blueprint import bp

__all__ = ["bp"]
