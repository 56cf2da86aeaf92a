"""Hallway's version, on the ground floor: reports and kept results carry it, as does the footer."""

__version__ = "0.1.0"
