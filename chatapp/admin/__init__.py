"""The admin's pages: accounts, widget sites, teams, conversation labels and the outbox's deliveries."""
from . import deliveries, labels, routes, sites, teams, webhooks  # noqa: E402,F401 - their views register on the blueprint
from .blueprint import bp

__all__ = ["bp"]
