"""The admin's pages: accounts and widget sites."""
from .blueprint import bp

from . import routes, sites  # noqa: E402,F401 - their views register on the blueprint

__all__ = ["bp"]
