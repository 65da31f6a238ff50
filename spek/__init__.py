"""Spek: a self-hostable AI knowledge workspace backend."""

__version__ = "0.1.0"
