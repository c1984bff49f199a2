"""Importing this package registers every sandbox route (see api.route)."""

from . import datasets, misc, people  # noqa: F401
