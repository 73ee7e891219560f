"""Versioned event contracts, one module per producing service. Importing this registers them all."""

from . import credit, loyalty, members, notify, pos  # noqa: F401
