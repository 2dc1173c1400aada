"""Architecture rules: which packages may import which, checked on the source with ``ast``.

Imports inside ``if TYPE_CHECKING:`` blocks are only seen by type checkers and are exempt.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "storage")


@dataclass(frozen=True)
class Import:
    """One imported module (for ``from a import b`` both ``a`` and ``a.b`` count)."""

    module: str
    line: int


@dataclass(frozen=True)
class Rule:
    """Files under ``scope`` (a module prefix) must not import anything under ``forbidden``."""

    scope: str
    forbidden: tuple[str, ...]
    exempt: tuple[str, ...] = ()

    def applies_to(self, module: str) -> bool:
        return within(module, self.scope) and not any(within(module, e) for e in self.exempt)

    def violated_by(self, imported: str) -> str | None:
        return next((f for f in self.forbidden if within(imported, f)), None)


RULES = (
    # Only the adapters may talk to the chat libraries.
    Rule("", ("telegram", "nio"), exempt=("bot.adapters",)),
    Rule("storage", ("bot",)),
    Rule("bot.services", ("bot.handlers", "bot.adapters", "bot.app", "bot.cli")),
    Rule("bot.handlers", ("bot.adapters", "bot.app", "bot.cli")),
    Rule("bot.core", ("bot.services", "bot.handlers", "bot.adapters", "bot.app")),
    Rule("bot.jobs", ("bot.handlers", "bot.adapters")),
)


def within(module: str, prefix: str) -> bool:
    """Whether ``module`` is ``prefix`` or inside it (the empty prefix contains everything)."""
    return not prefix or module == prefix or module.startswith(prefix + ".")


def is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING`` (or any ``<x>.TYPE_CHECKING``)."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def resolve_relative(module: str | None, level: int, current: str, is_package: bool) -> str:
    """The absolute module a ``from ...x import`` statement refers to."""
    if level == 0:
        return module or ""
    parts = current.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, module] if module else base)


def imports_of(source: str, current: str = "", is_package: bool = False) -> list[Import]:
    """Every runtime import in ``source``, at any depth, except under ``if TYPE_CHECKING:``."""
    found: list[Import] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = resolve_relative(node.module, node.level, current, is_package)
            found.append(Import(base, node.lineno))
            found.extend(
                Import(f"{base}.{alias.name}" if base else alias.name, node.lineno)
                for alias in node.names
                if alias.name != "*"
            )
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return found


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """Human-readable rule violations of one module's source."""
    problems = []
    for imported in imports_of(source, module, is_package):
        for rule in RULES:
            if not rule.applies_to(module):
                continue
            forbidden = rule.violated_by(imported.module)
            if forbidden:
                problems.append(
                    f"line {imported.line}: {module} imports {imported.module} "
                    f"(nothing in {rule.scope or 'the project'} may import {forbidden})"
                )
    return sorted(set(problems))


def module_name(path: Path) -> tuple[str, bool]:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def source_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


# --------------------------------------------------------------------------------------------
# The checker itself
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("import telegram\n", "bot.handlers.ag", "bot.handlers.ag imports telegram"),
        ("from telegram.ext import Application\n", "bot.app", "imports telegram.ext"),
        ("import nio.crypto as c\n", "bot.core.ports", "imports nio.crypto"),
        ("def f():\n    from nio import AsyncClient\n", "bot.services.x", "imports nio"),
        ("from bot.core import markup\n", "storage.engine", "storage.engine imports bot.core"),
        ("import bot\n", "storage.models.goal", "imports bot"),
        ("from bot import app\n", "bot.services.groups", "imports bot.app"),
        ("from bot.handlers.format import x\n", "bot.services.register", "imports bot.handlers.format"),
        ("import bot.cli\n", "bot.handlers.ag", "imports bot.cli"),
        ("from bot.adapters import load_adapter\n", "bot.handlers.help", "imports bot.adapters"),
        ("from bot.services import Services\n", "bot.core.context", "imports bot.services"),
        ("from ..services import Services\n", "bot.core.context", "imports bot.services"),
        ("from .. import handlers\n", "bot.core", "imports bot.handlers"),
        ("from .. import handlers\n", "bot.core.router", "imports bot.handlers"),
        ("from bot.handlers import ag\n", "bot.jobs.reminders", "imports bot.handlers"),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    pass\nelse:\n    import telegram\n",
            "bot.core.x",
            "imports telegram",
        ),
        (
            "class A:\n    def m(self):\n        if True:\n            import telegram.error\n",
            "bot.handlers.x",
            "imports telegram.error",
        ),
    ],
)
def test_checker_detects_violations(source, module, expected):
    problems = violations(source, module, is_package=module == "bot.core")
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("line ") for p in problems)


@pytest.mark.parametrize(
    ("source", "module"),
    [
        ("import telegram\nfrom nio import AsyncClient\n", "bot.adapters.telegram.adapter"),
        ("from bot.handlers import build_router\n", "bot.app"),
        ("from storage.models import Role\n", "bot.core.router"),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.services import S\n",
            "bot.core.context",
        ),
        ("import typing\nif typing.TYPE_CHECKING:\n    import telegram\n", "bot.core.events"),
        ("import telegramx\nimport niobium\nimport bottle\n", "storage.engine"),
        ("from bot.core.errors import UserError\n", "bot.services.text"),
        ("from bot.services import Services\n", "bot.jobs.reminders"),
    ],
)
def test_checker_allows_permitted_imports(source, module):
    assert violations(source, module) == []


def test_relative_import_resolution():
    assert resolve_relative("x", 1, "bot.core.router", False) == "bot.core.x"
    assert resolve_relative("x", 2, "bot.core.router", False) == "bot.x"
    assert resolve_relative(None, 1, "bot.core", True) == "bot.core"
    assert resolve_relative("y", 1, "bot.core", True) == "bot.core.y"


# --------------------------------------------------------------------------------------------
# The project
# --------------------------------------------------------------------------------------------


def test_sources_are_found():
    modules = {module_name(p)[0] for p in source_files()}
    assert {"bot.app", "bot.core.markup", "storage.engine", "bot.handlers"} <= modules


def test_project_respects_layering():
    problems = []
    for path in source_files():
        module, is_package = module_name(path)
        for problem in violations(path.read_text(encoding="utf-8"), module, is_package):
            problems.append(f"{path.relative_to(ROOT)}: {problem}")
    assert not problems, "layering violations:\n" + "\n".join(problems)


# Infrastructure the hub may use; everything else of bot.services and bot.handlers is a feature.
APP_MAY_IMPORT = ("bot.handlers", "bot.handlers.build_router", "bot.services", "bot.services.Services")
APP_INFRASTRUCTURE = ("bot.services.outbox",)


def test_the_application_knows_no_feature():
    """``bot/app.py`` is the hub: features plug in through the router, never by name here."""
    source = (ROOT / "bot" / "app.py").read_text(encoding="utf-8")
    features = [
        f"line {i.line}: {i.module}"
        for i in imports_of(source, "bot.app")
        if (within(i.module, "bot.handlers") or within(i.module, "bot.services"))
        and i.module not in APP_MAY_IMPORT
        and not any(within(i.module, allowed) for allowed in APP_INFRASTRUCTURE)
    ]
    assert not features, "bot/app.py imports features:\n" + "\n".join(features)
