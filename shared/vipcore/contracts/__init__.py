"""Versioned event contracts, one module per producing service. Importing this registers them all."""

from . import bookings, credit, loyalty, members, notify, pos  # noqa: F401
