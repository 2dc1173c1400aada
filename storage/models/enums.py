"""Enumerations stored in the database as their string values."""

from __future__ import annotations

import enum

from sqlalchemy import Enum


class Role(enum.StrEnum):
    """A person's role in one AG, from least to most privileged."""

    MITGLIED = "mitglied"
    KUEMMERER = "kuemmerer"
    KOORDINATION = "koordination"

    @property
    def rank(self) -> int:
        """Position in the privilege order, for comparisons."""
        return list(Role).index(self)


class GoalStatus(enum.StrEnum):
    """Lifecycle of a goal."""

    ACTIVE = "active"
    ACHIEVED = "achieved"
    DISCARDED = "discarded"


class DecisionStatus(enum.StrEnum):
    """Lifecycle of a decision; nothing is ever deleted."""

    ACTIVE = "active"
    REPLACED = "replaced"
    REVOKED = "revoked"


def enum_column(enum_cls: type[enum.StrEnum]) -> Enum:
    """A portable VARCHAR column type storing an enum's values (not its member names)."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
