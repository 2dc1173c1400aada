"""A small neutral markup that every adapter renders in its own way.

A message is a list of :class:`Line` objects made of :class:`Span` runs. Styling comes only from
trusted templates (the i18n catalogs) and code; user-provided text always travels as the plain
``text`` of a span, so every renderer escapes it and no user can inject HTML or Markdown.

Template syntax (used by catalogs): ``**bold**``, ``__italic__``, ```code```, ``{name}``
placeholders, ``- `` at the start of a line for a bullet. Placeholders are replaced by spans of
their own that inherit the surrounding style but are never parsed for markers.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

BULLET = "•"


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text with one style."""

    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a message; an empty line separates paragraphs."""

    spans: tuple[Span, ...] = ()
    bullet: bool = False

    @property
    def is_blank(self) -> bool:
        """Whether the line has no visible content (a paragraph break)."""
        return not self.bullet and not any(s.text for s in self.spans)

    @property
    def plain(self) -> str:
        """The line's text without any styling."""
        return "".join(s.text for s in self.spans)


Inline = str | Span | Iterable[Span]


def _spans(parts: Iterable[Inline]) -> tuple[Span, ...]:
    result: list[Span] = []
    for part in parts:
        if isinstance(part, str):
            result.append(Span(part))
        elif isinstance(part, Span):
            result.append(part)
        else:
            result.extend(part)
    return tuple(s for s in result if s.text)


def bold(text: str) -> Span:
    """A bold span of plain (escaped) text."""
    return Span(text, bold=True)


def italic(text: str) -> Span:
    """An italic span of plain (escaped) text."""
    return Span(text, italic=True)


def code(text: str) -> Span:
    """A monospace span of plain (escaped) text."""
    return Span(text, code=True)


def link(text: str, url: str) -> Span:
    """A hyperlink; ``url`` must come from code, never from user input."""
    return Span(text, link=url)


@dataclass(slots=True)
class Markup:
    """A message under construction: a list of lines.

    Example:
        >>> m = Markup().line(bold("Beschluss 3"), ": ", "<b>Text</b>")
        >>> m.plain()
        'Beschluss 3: <b>Text</b>'
    """

    lines: list[Line] = field(default_factory=list)

    def line(self, *parts: Inline) -> Markup:
        """Append a line made of plain strings and spans."""
        self.lines.append(Line(_spans(parts)))
        return self

    def bullet(self, *parts: Inline) -> Markup:
        """Append a bullet item."""
        self.lines.append(Line(_spans(parts), bullet=True))
        return self

    def blank(self) -> Markup:
        """Append a paragraph break (never two in a row, never at the start)."""
        if self.lines and not self.lines[-1].is_blank:
            self.lines.append(Line())
        return self

    def extend(self, other: Markup | Iterable[Line]) -> Markup:
        """Append all lines of another markup."""
        self.lines.extend(other.lines if isinstance(other, Markup) else other)
        return self

    def plain(self) -> str:
        """Render as plain text (console, notification bodies)."""
        return render_plain(self)

    def __len__(self) -> int:
        return len(self.lines)


def parse_template(template: str, values: Mapping[str, object] | None = None) -> list[Line]:
    """Parse a trusted template into lines, substituting placeholders with unparsed spans.

    Args:
        template: Catalog text using the syntax described in the module docstring.
        values: Placeholder values; they are converted with ``str()`` and never parsed.

    Returns:
        The lines of the template.

    Raises:
        KeyError: A placeholder has no value.
    """
    values = values or {}
    lines: list[Line] = []
    for raw in template.split("\n"):
        is_bullet = raw.startswith("- ")
        if is_bullet:
            raw = raw[2:]
        lines.append(Line(tuple(_parse_inline(raw, values)), bullet=is_bullet))
    return lines


_TOKEN = re.compile(r"\*\*|__|`|\{([a-zA-Z_][a-zA-Z0-9_]*)\}|\{\{|\}\}")


def _parse_inline(text: str, values: Mapping[str, object]) -> list[Span]:
    style = {"bold": False, "italic": False, "code": False}
    spans: list[Span] = []
    pos = 0

    def emit(chunk: str) -> None:
        if chunk:
            spans.append(Span(chunk, **style))

    for match in _TOKEN.finditer(text):
        emit(text[pos : match.start()])
        token = match.group(0)
        if token == "**":
            style["bold"] = not style["bold"]
        elif token == "__":
            style["italic"] = not style["italic"]
        elif token == "`":
            style["code"] = not style["code"]
        elif token == "{{":
            emit("{")
        elif token == "}}":
            emit("}")
        else:
            value = values[match.group(1)]
            if isinstance(value, Span):
                spans.append(value)
            elif isinstance(value, tuple) and all(isinstance(v, Span) for v in value):
                spans.extend(value)
            else:
                emit(str(value))
        pos = match.end()
    emit(text[pos:])
    return spans


def render_plain(markup: Markup) -> str:
    """Render as plain text: bullets become ``•``, styles are dropped, links keep their URL."""
    out = []
    for line in markup.lines:
        text = "".join(f"{s.text} ({s.link})" if s.link and s.link != s.text else s.text for s in line.spans)
        out.append(f"{BULLET} {text}" if line.bullet else text)
    return "\n".join(out).strip("\n")


def _html_span(span: Span) -> str:
    text = html.escape(span.text, quote=False)
    if span.code:
        text = f"<code>{text}</code>"
    if span.italic:
        text = f"<i>{text}</i>"
    if span.bold:
        text = f"<b>{text}</b>"
    if span.link:
        text = f'<a href="{html.escape(span.link, quote=True)}">{text}</a>'
    return text


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Join neighbouring spans of the same style (``<b>Nr. </b><b>1</b>`` → ``<b>Nr. 1</b>``)."""
    merged: list[Span] = []
    for span in spans:
        if merged and replace(merged[-1], text="") == replace(span, text=""):
            merged[-1] = replace(merged[-1], text=merged[-1].text + span.text)
        else:
            merged.append(span)
    return merged


def render_html(markup: Markup) -> str:
    """Render as the HTML subset Telegram accepts (no lists, newlines kept as they are)."""
    out = []
    for line in markup.lines:
        text = "".join(_html_span(s) for s in merge_spans(line.spans))
        out.append(f"{BULLET} {text}" if line.bullet else text)
    return "\n".join(out).strip("\n")


def render_rich_html(markup: Markup) -> str:
    """Render as block HTML (paragraphs and ``<ul>`` lists) for clients such as Element."""
    blocks: list[str] = []
    para: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if para:
            blocks.append("<p>" + "<br>".join(para) + "</p>")
            para.clear()
        if items:
            blocks.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
            items.clear()

    for line in markup.lines:
        text = "".join(_html_span(s) for s in merge_spans(line.spans))
        if line.bullet:
            if para:
                flush()
            items.append(text)
        elif line.is_blank:
            flush()
        else:
            if items:
                flush()
            para.append(text)
    flush()
    return "".join(blocks)


def html_length(markup: Markup) -> int:
    """Length of the message rendered as Telegram HTML (the default measure for splitting)."""
    return len(render_html(markup))


def split(markup: Markup, limit: int, measure: Callable[[Markup], int] = html_length) -> list[Markup]:
    """Split a message into parts whose rendering stays within ``limit`` characters.

    Splits at paragraph breaks where possible, then between lines, and cuts a single overlong
    line as a last resort, so no text is lost.

    Args:
        markup: The message.
        limit: Maximum rendered length of one part.
        measure: The length of a rendered part, as the platform counts it.

    Returns:
        One or more parts, in order.
    """
    if measure(markup) <= limit:
        return [markup]
    # Paragraph-sized chunks first, so a split lands between paragraphs whenever it can.
    paragraphs: list[list[Line]] = [[]]
    for line in markup.lines:
        if line.is_blank:
            paragraphs.append([])
        else:
            paragraphs[-1].append(line)
    parts: list[Markup] = []
    current = Markup()

    def fits(candidate: Markup) -> bool:
        return measure(candidate) <= limit

    def push_line(line: Line) -> None:
        nonlocal current
        trial = Markup(current.lines + [line])
        if fits(trial):
            current = trial
            return
        if current.lines:
            parts.append(current)
            current = Markup()
        if fits(Markup([line])):
            current = Markup([line])
            return
        for piece in _cut_line(line, limit, measure):
            parts.append(Markup([piece]))

    for index, paragraph in enumerate(p for p in paragraphs if p):
        if index and current.lines:
            trial = Markup(current.lines + [Line()] + paragraph)
            if fits(trial):
                current = trial
                continue
            parts.append(current)
            current = Markup()
        for line in paragraph:
            push_line(line)
    if current.lines:
        parts.append(current)
    return parts


def _cut_line(line: Line, limit: int, measure: Callable[[Markup], int]) -> list[Line]:
    """Cut an overlong line into pieces within ``limit``, keeping each span's style."""

    def size(spans: list[Span]) -> int:
        return measure(Markup([Line(tuple(spans), line.bullet)]))

    # A first guess assuming escaping grows text at most fivefold ("&" -> "&amp;"); chunks that
    # still measure too long (multi-byte measures, emoji) are halved until they fit.
    budget = max(1, (limit - 64) // 5)
    chunks: list[Span] = []
    for span in line.spans:
        pending = [span.text[i : i + budget] for i in range(0, len(span.text), budget)]
        while pending:
            text = pending.pop(0)
            if len(text) > 1 and size([replace(span, text=text)]) > limit:
                half = len(text) // 2
                pending[:0] = [text[:half], text[half:]]
            else:
                chunks.append(replace(span, text=text))
    pieces: list[Line] = []
    current: list[Span] = []
    for chunk in chunks:
        if current and size([*current, chunk]) > limit:
            pieces.append(Line(tuple(current), line.bullet))
            current = [chunk]
        else:
            current.append(chunk)
    if current:
        pieces.append(Line(tuple(current), line.bullet))
    return pieces
