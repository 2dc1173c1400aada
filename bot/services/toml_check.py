"""Reading TOML files with problems that name the key and its line (pure, no database).

Python's ``tomllib`` gives values but no positions, and an operator fixing a file needs both
the key and the line. :func:`parse` reads a document (a syntax error becomes a
:class:`FormatError` with tomllib's message and line), :class:`KeyLines` finds the line of any
key path by scanning the source once, and :class:`Checker` reads typed values out of the
parsed dict, collecting every :class:`Problem` instead of stopping at the first, so one run
shows everything that is wrong. Messages are German: they are read by a network's operator.
"""

from __future__ import annotations

import bisect
import difflib
import math
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]
"""A key path: table keys and array indexes, e.g. ``("item", 3, "options", 0, "id")``."""

MISSING = "Pflichtangabe fehlt"
_POSITION = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)\s*$")


def format_path(path: Path) -> str:
    """The path as operators read it: ``item[3].options[0].id`` (indexes count from 0)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a file: where (line, key path) and what (a German message)."""

    line: int | None
    key: str
    message: str

    def render(self, name: str) -> str:
        """One line: ``DATEI:12: item[3].options: mindestens zwei Optionen angeben``."""
        where = f"{name}:{self.line}" if self.line is not None else name
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class FormatError(Exception):
    """A file that cannot be used; ``problems`` lists everything found, ordered by line."""

    def __init__(self, problems: list[Problem], *, name: str = "<text>") -> None:
        self.problems = list(problems)
        self.name = name
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(p.render(self.name) for p in self.problems)


def parse(source: str, *, name: str) -> dict[str, Any]:
    """Parse a TOML document.

    Args:
        source: The document's text.
        name: The file name used in messages.

    Returns:
        The parsed document.

    Raises:
        FormatError: On a syntax error, with tomllib's message and its line.
    """
    try:
        return tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line: int | None = getattr(exc, "lineno", None)
        match = _POSITION.search(message)
        if match:
            message = message[: match.start()]
            if line is None:
                # "at end of document": the last line is the most useful pointer.
                line = int(match.group(1)) if match.group(1) else max(1, len(source.splitlines()))
        problem = Problem(line, "", f"TOML-Syntaxfehler: {message}")
        raise FormatError([problem], name=name) from None


class KeyLines:
    """The line of every key path in a (valid) TOML source.

    Table headers (``[x]``, ``[[item]]``, ``[[item.question]]``), dotted keys
    (``text.de = …``), inline tables and arrays spanning lines are followed; a path that is not
    in the file (a missing key) gets the line of the nearest enclosing key or table header.
    """

    def __init__(self, source: str) -> None:
        self._lines = _Scanner(source).run()

    def line(self, path: Path) -> int | None:
        """The line of ``path``, or of the nearest enclosing key or table, or ``None``."""
        for end in range(len(path), 0, -1):
            line = self._lines.get(path[:end])
            if line is not None:
                return line
        return None


_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR_END = frozenset(",]}#\n\r")


class _Scanner:
    """Walks a TOML document tomllib accepted and notes where each key path starts.

    The document is known to be valid, so the scanner only needs to find structure: strings
    and comments are skipped, scalars are skipped up to the next delimiter.
    """

    def __init__(self, source: str) -> None:
        self.s = source
        self.i = 0
        self.found: dict[Path, int] = {}
        self._starts = [0] + [m.end() for m in re.finditer(r"\n", source)]
        self._arrays: dict[Path, int] = {}  # array-of-tables path -> its last index

    def run(self) -> dict[Path, int]:
        try:
            self._document()
        except (IndexError, ValueError, tomllib.TOMLDecodeError):
            pass  # a scanner slip must never hide the real problem; lines found so far stay
        return self.found

    def _note(self, path: Path, pos: int) -> None:
        line = bisect.bisect_right(self._starts, pos)
        for end in range(1, len(path) + 1):
            self.found.setdefault(path[:end], line)

    def _document(self) -> None:
        s, table = self.s, ()
        while True:
            self._blank(newlines=True)
            if self.i >= len(s):
                return
            start = self.i
            if s.startswith("[[", self.i):
                self.i += 2
                keys = self._keys()
                parent = self._resolve(keys[:-1])
                array = (*parent, keys[-1])
                index = self._arrays.get(array, -1) + 1
                self._arrays[array] = index
                table = (*array, index)
                self._note(table, start)
                self.i = s.index("]]", self.i) + 2
            elif s[self.i] == "[":
                self.i += 1
                table = self._resolve(self._keys())
                self._note(table, start)
                self.i = s.index("]", self.i) + 1
            else:
                keys = self._keys()
                if not keys:
                    raise ValueError(f"unexpected character at {self.i}")
                self._note((*table, *keys), start)
                self._expect("=")
                self._value((*table, *keys))

    def _resolve(self, keys: tuple[str, ...]) -> Path:
        # A header names the last element of every array of tables on its way.
        path: Path = ()
        for key in keys:
            path = (*path, key)
            if path in self._arrays:
                path = (*path, self._arrays[path])
        return path

    def _blank(self, *, newlines: bool) -> None:
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c in " \t" or (newlines and c in "\r\n"):
                self.i += 1
            elif c == "#" and newlines:
                end = s.find("\n", self.i)
                self.i = len(s) if end < 0 else end
            else:
                return

    def _expect(self, char: str) -> None:
        self._blank(newlines=False)
        if self.s[self.i] != char:
            raise ValueError(f"expected {char!r} at {self.i}")
        self.i += 1

    def _keys(self) -> tuple[str, ...]:
        keys: list[str] = []
        while True:
            self._blank(newlines=False)
            c = self.s[self.i]
            if c in "\"'":
                start = self.i
                self._string()
                # Let tomllib decode the escapes of a quoted key.
                keys.append(next(iter(tomllib.loads(self.s[start : self.i] + " = 0"))))
            else:
                match = _BARE.match(self.s, self.i)
                if not match:
                    return tuple(keys)
                keys.append(match.group())
                self.i = match.end()
            self._blank(newlines=False)
            if self.i < len(self.s) and self.s[self.i] == ".":
                self.i += 1
            else:
                return tuple(keys)

    def _value(self, path: Path) -> None:
        self._blank(newlines=False)
        s = self.s
        c = s[self.i]
        if c == "{":
            self.i += 1
            while True:
                self._blank(newlines=True)
                if s[self.i] == "}":
                    self.i += 1
                    return
                if s[self.i] == ",":
                    self.i += 1
                    continue
                start = self.i
                keys = self._keys()
                if not keys:
                    raise ValueError(f"unexpected character at {self.i}")
                self._note((*path, *keys), start)
                self._expect("=")
                self._value((*path, *keys))
        elif c == "[":
            self.i += 1
            index = 0
            while True:
                self._blank(newlines=True)
                if s[self.i] == "]":
                    self.i += 1
                    return
                if s[self.i] == ",":
                    self.i += 1
                    continue
                self._note((*path, index), self.i)
                self._value((*path, index))
                index += 1
        elif c in "\"'":
            self._string()
        else:
            start = self.i
            while self.i < len(s) and s[self.i] not in _SCALAR_END:
                self.i += 1
            if self.i == start:
                raise ValueError(f"empty value at {start}")

    def _string(self) -> None:
        s, quote = self.s, self.s[self.i]
        if s.startswith(quote * 3, self.i):
            self.i += 3
            while not s.startswith(quote * 3, self.i):
                self.i += 2 if quote == '"' and s[self.i] == "\\" else 1
            # Up to two quotes of the content may directly precede the closing delimiter.
            run = 3
            while run < 5 and self.i + run < len(s) and s[self.i + run] == quote:
                run += 1
            self.i += run
            return
        self.i += 1
        while s[self.i] != quote:
            self.i += 2 if quote == '"' and s[self.i] == "\\" else 1
        self.i += 1


class Checker:
    """Reads typed values out of a parsed document and collects the problems.

    Every reader returns ``None`` when the value is missing or wrong (the problem is noted),
    so callers go on checking the rest and raise once at the end (:meth:`raise_problems`).
    """

    def __init__(self, *, name: str, lines: KeyLines | None = None) -> None:
        self.name = name
        self.lines = lines
        self.problems: list[Problem] = []

    def line(self, path: Path) -> int | None:
        """The line of ``path`` in the source (``None`` without a source)."""
        return self.lines.line(path) if self.lines else None

    def add(self, path: Path, message: str) -> None:
        """Note a problem at ``path``."""
        self.problems.append(Problem(self.line(path), format_path(path), message))

    def raise_problems(self) -> None:
        """Raise a :class:`FormatError` if anything was noted.

        Raises:
            FormatError: With the problems ordered by line (stable, file-wide ones first).
        """
        if self.problems:
            ordered = sorted(self.problems, key=lambda p: -1 if p.line is None else p.line)
            raise FormatError(ordered, name=self.name)

    def table(
        self,
        value: Any,
        path: Path,
        allowed: Collection[str],
        *,
        elsewhere: Mapping[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """``value`` as a table whose keys are all ``allowed``.

        A key that is not allowed is reported with ``elsewhere[key]`` as its message if given
        (a key that exists, but not here), else as unknown with the closest allowed key as a
        suggestion: a typo like ``requierd`` must not be silently ignored.
        """
        if not isinstance(value, dict):
            self.add(path, "muss eine Tabelle sein: ein Abschnitt [[…]] oder { … }")
            return None
        for key in value:
            if key in allowed:
                continue
            if elsewhere and key in elsewhere:
                self.add((*path, key), elsewhere[key])
                continue
            guess = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
            hint = f" – gemeint ist wohl „{guess[0]}“" if guess else ""
            self.add((*path, key), f"unbekannter Schlüssel „{key}“{hint}")
        return value

    def string(
        self,
        table: Mapping[str, Any],
        key: str,
        path: Path,
        *,
        required: bool = True,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
        max_length: int | None = None,
        missing: str = MISSING,
    ) -> str | None:
        """A string ``table[key]`` (non-blank, matching ``pattern``, at most ``max_length``)."""
        where = (*path, key)
        if key not in table:
            if required:
                self.add(where, missing)
            return None
        value = table[key]
        if not isinstance(value, str):
            self.add(where, 'muss ein Text in Anführungszeichen sein ("…")')
        elif not value.strip():
            self.add(where, missing if required else "darf nicht leer sein")
        elif pattern is not None and not pattern.fullmatch(value):
            self.add(where, f"„{value}“ ist ungültig{': ' + hint if hint else ''}")
        elif max_length is not None and len(value) > max_length:
            self.add(where, f"höchstens {max_length} Zeichen (hier {len(value)})")
        else:
            return value
        return None

    def flag(self, table: Mapping[str, Any], key: str, path: Path, default: bool) -> bool:
        """A boolean ``table[key]`` (``default`` when missing or wrong)."""
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.add((*path, key), "muss true oder false sein")
            return default
        return value

    def integer(
        self,
        table: Mapping[str, Any],
        key: str,
        path: Path,
        *,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        """A whole number ``table[key]`` within ``minimum`` … ``maximum``."""
        if key not in table:
            return default
        value, where = table[key], (*path, key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(where, "muss eine ganze Zahl sein")
        elif minimum is not None and value < minimum:
            self.add(where, f"muss mindestens {minimum} sein")
        elif maximum is not None and value > maximum:
            self.add(where, f"darf höchstens {maximum} sein")
        else:
            return value
        return None

    def number(self, table: Mapping[str, Any], key: str, path: Path) -> float | None:
        """A finite number ``table[key]`` (whole or decimal) as a float, if given."""
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.add((*path, key), "muss eine Zahl sein")
            return None
        return float(value)

    def array(
        self, table: Mapping[str, Any], key: str, path: Path, *, required: bool = True, hint: str = ""
    ) -> list[Any] | None:
        """A list ``table[key]``."""
        where = (*path, key)
        if key not in table:
            if required:
                self.add(where, MISSING + (f" ({hint})" if hint else ""))
            return None
        value = table[key]
        if not isinstance(value, list):
            self.add(where, "muss eine Liste sein" + (f" ({hint})" if hint else ""))
            return None
        return value
