"""Registration, login and logout."""
from .blueprint import bp

from . import routes  # noqa: E402,F401 - their views register on the blueprint

__all__ = ["bp"]
