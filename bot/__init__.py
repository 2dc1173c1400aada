"""Kümmerer: a chat bot that keeps the register of open working groups (AGs)."""

__version__ = "0.1.0"
