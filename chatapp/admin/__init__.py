"""The admin's pages: accounts and widget sites."""
from . import routes, sites  # noqa: E402,F401 - their views register on the blueprint
from .blueprint import bp

__all__ = ["bp"]
