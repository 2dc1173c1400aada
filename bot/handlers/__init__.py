"""Thin command handlers: parse the arguments, call a service, reply. One module per feature."""

from __future__ import annotations

from bot.core.router import Router
from bot.handlers import (
    ag,
    datenschutz,
    decisions,
    goals,
    help,
    hints,
    konto,
    meetings,
    onboarding,
    polls,
    reminders,
    roles,
    scheduling,
    surveys,
)

FEATURES = (
    help,
    ag,
    goals,
    decisions,
    roles,
    onboarding,
    hints,
    reminders,
    meetings,
    polls,
    surveys,
    scheduling,
    datenschutz,
    konto,
)
"""Feature modules in the order ``/hilfe`` lists them."""


def build_router() -> Router:
    """The root router with the commands of every feature module."""
    root = Router()
    for feature in FEATURES:
        root.include(feature.router)
    return root
