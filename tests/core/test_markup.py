"""Tests for the neutral markup: template parsing, the three renderers and message splitting."""

from __future__ import annotations

import html
import random
import re
from html.parser import HTMLParser

import pytest

from bot.core.markup import (
    BULLET,
    Line,
    Markup,
    Span,
    bold,
    code,
    italic,
    link,
    parse_template,
    render_html,
    render_plain,
    render_rich_html,
    split,
)

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def styled(lines: list[Line]) -> list[tuple[str, bool, bool, bool]]:
    """The spans of parsed lines as (text, bold, italic, code) tuples, for compact asserts."""
    return [(s.text, s.bold, s.italic, s.code) for line in lines for s in line.spans]


class TagChecker(HTMLParser):
    """Records an error when tags are closed out of order or left open."""

    VOID = {"br"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)

    def check(self, source: str) -> str:
        """Feed ``source``; return its unescaped text; fail on improper nesting."""
        self.feed(source)
        self.close()
        assert not self.errors, self.errors
        assert not self.stack, f"unclosed tags: {self.stack}"
        return "".join(self.text)


def char_styles(lines) -> list[tuple[str, bool, bool, bool, str | None, bool]]:
    """Every character of the non-blank lines with its style and bullet flag."""
    out = []
    for line in lines:
        if line.is_blank:
            continue
        for span in line.spans:
            for ch in span.text:
                out.append((ch, span.bold, span.italic, span.code, span.link, line.bullet))
    return out


# --------------------------------------------------------------------------------------------
# parse_template
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("plain", [("plain", False, False, False)]),
        ("**fett**", [("fett", True, False, False)]),
        ("__kursiv__", [("kursiv", False, True, False)]),
        ("`code`", [("code", False, False, True)]),
        (
            "a **b __c__** d",
            [
                ("a ", False, False, False),
                ("b ", True, False, False),
                ("c", True, True, False),
                (" d", False, False, False),
            ],
        ),
        (
            "x `/ag anlegen <Name>` y",
            [
                ("x ", False, False, False),
                ("/ag anlegen <Name>", False, False, True),
                (" y", False, False, False),
            ],
        ),
        # An unclosed marker styles the rest of the line only.
        ("**offen", [("offen", True, False, False)]),
        # Markers are empty spans and never leave empty text behind.
        ("****", []),
    ],
)
def test_parse_template_markers(template, expected):
    assert styled(parse_template(template)) == expected


def test_unclosed_marker_does_not_leak_into_next_line():
    lines = parse_template("**offen\nzu")
    assert styled(lines) == [("offen", True, False, False), ("zu", False, False, False)]


@pytest.mark.parametrize(
    "value",
    ["**nicht fett**", "__x__", "`y`", "{name}", "{{", "}}", "- kein Punkt", "<b>&amp;</b>"],
)
def test_placeholder_values_are_never_parsed(value):
    lines = parse_template("Text: {v}!", {"v": value, "name": "SHOULD NOT APPEAR"})
    assert len(lines) == 1
    assert lines[0].plain == f"Text: {value}!"
    assert not lines[0].bullet
    assert all(not (s.bold or s.italic or s.code) for s in lines[0].spans)


def test_placeholder_value_with_newline_does_not_create_a_bullet_line():
    lines = parse_template("{v}", {"v": "a\n- b"})
    assert len(lines) == 1
    assert not lines[0].bullet
    assert lines[0].plain == "a\n- b"


def test_placeholder_inherits_surrounding_style():
    lines = parse_template("**Ziel {n}:** {text}", {"n": 3, "text": "**frei**"})
    assert styled(lines) == [
        ("Ziel ", True, False, False),
        ("3", True, False, False),
        (":", True, False, False),
        (" ", False, False, False),
        ("**frei**", False, False, False),
    ]


def test_placeholder_span_values_are_inserted_as_is():
    lines = parse_template("A {x} B {y}", {"x": code("c"), "y": (bold("b"), Span("p"))})
    assert styled(lines) == [
        ("A ", False, False, False),
        ("c", False, False, True),
        (" B ", False, False, False),
        ("b", True, False, False),
        ("p", False, False, False),
    ]


@pytest.mark.parametrize(
    ("template", "values", "plain"),
    [
        ("{{", {}, "{"),
        ("}}", {}, "}"),
        ("{{name}}", {"name": "X"}, "{name}"),
        ("{{{name}}}", {"name": "X"}, "{X}"),
        ("a {{b}} {c}", {"c": 1}, "a {b} 1"),
        ("{ kein Platzhalter }", {}, "{ kein Platzhalter }"),
    ],
)
def test_brace_escapes(template, values, plain):
    lines = parse_template(template, values)
    assert "".join(line.plain for line in lines) == plain
    # Same result as str.format would give for the same template.
    if "{ " not in template:
        assert plain == template.format(**values)


def test_missing_placeholder_raises_key_error():
    with pytest.raises(KeyError):
        parse_template("Hallo {name}", {})


def test_bullets_and_lines():
    lines = parse_template("Titel\n- eins\n- **zwei**\n-kein Punkt\n\nEnde")
    assert [line.bullet for line in lines] == [False, True, True, False, False, False]
    assert [line.plain for line in lines] == ["Titel", "eins", "zwei", "-kein Punkt", "", "Ende"]
    assert lines[2].spans[0].bold
    assert lines[4].is_blank


# --------------------------------------------------------------------------------------------
# Markup builder
# --------------------------------------------------------------------------------------------


def test_blank_never_doubles_and_never_starts():
    m = Markup().blank().line("a").blank().blank().line("b")
    assert [line.is_blank for line in m.lines] == [False, True, False]


def test_line_drops_empty_parts_and_flattens_span_iterables():
    m = Markup().line("", "a", (bold("b"), Span("")), italic("c"))
    assert [(s.text, s.bold, s.italic) for s in m.lines[0].spans] == [
        ("a", False, False),
        ("b", True, False),
        ("c", False, True),
    ]


# --------------------------------------------------------------------------------------------
# render_plain
# --------------------------------------------------------------------------------------------


def test_render_plain():
    m = (
        Markup()
        .blank()
        .line(bold("Titel"), " ", italic("x"), " ", code("<b>"))
        .blank()
        .bullet("eins")
        .bullet(link("Doku", "https://example.org/d"))
        .line(link("https://example.org", "https://example.org"))
        .blank()
    )
    assert render_plain(m) == (
        f"Titel x <b>\n\n{BULLET} eins\n{BULLET} Doku (https://example.org/d)\nhttps://example.org"
    )
    assert m.plain() == render_plain(m)


# --------------------------------------------------------------------------------------------
# render_html
# --------------------------------------------------------------------------------------------

USER_TEXT = "Er sagte \"<b>Hallo</b>\" & ging <script>alert(1)</script> 'ok'"


def test_render_html_escapes_user_text():
    out = render_html(Markup().line("Text: ", USER_TEXT))
    assert "<b>" not in out and "<script>" not in out
    assert "&lt;b&gt;Hallo&lt;/b&gt;" in out
    assert "&amp; ging" in out
    # Quotes need no escaping in element content; whichever form is used, it decodes back.
    assert html.unescape(out) == "Text: " + USER_TEXT
    assert TagChecker().check(out) == "Text: " + USER_TEXT


def test_render_html_user_text_inside_styled_spans_is_escaped():
    out = render_html(Markup().line(bold("<i>&"), code('a"<b>')))
    assert out.startswith("<b>&lt;i&gt;&amp;</b>")
    assert TagChecker().check(out) == '<i>&a"<b>'


def test_render_html_escapes_link_attribute():
    out = render_html(Markup().line(link("x", 'https://e.org/?a=1&b="2"')))
    assert out == '<a href="https://e.org/?a=1&amp;b=&quot;2&quot;">x</a>'


def test_render_html_bullets_and_newlines():
    m = Markup().line(bold("T")).blank().bullet("a").bullet("b")
    assert render_html(m) == f"<b>T</b>\n\n{BULLET} a\n{BULLET} b"


@pytest.mark.parametrize(
    "span",
    [
        Span("x", bold=True, italic=True, code=True),
        Span("x", bold=True, code=True, link="https://e.org"),
        Span("x", italic=True, link="https://e.org"),
        Span("x", bold=True, italic=True, code=True, link="https://e.org"),
    ],
)
def test_render_html_styling_tags_nest_properly(span):
    for renderer in (render_html, render_rich_html):
        out = renderer(Markup().line("a", span, "b"))
        assert TagChecker().check(out) == "axb"


def test_render_html_template_styles_nest_properly():
    lines = parse_template("**fett __beides `alles` beides__ fett** normal __k **kb**__")
    out = render_html(Markup(lines))
    assert TagChecker().check(out) == "fett beides alles beides fett normal k kb"


# --------------------------------------------------------------------------------------------
# render_rich_html
# --------------------------------------------------------------------------------------------


def test_render_rich_html_paragraphs_and_lists():
    m = (
        Markup()
        .line(bold("Titel"))
        .line("Zeile 2")
        .blank()
        .bullet("eins")
        .bullet(USER_TEXT)
        .blank()
        .line("Ende")
    )
    out = render_rich_html(m)
    escaped = html.escape(USER_TEXT, quote=False)
    assert out == (f"<p><b>Titel</b><br>Zeile 2</p><ul><li>eins</li><li>{escaped}</li></ul><p>Ende</p>")
    TagChecker().check(out)


def test_render_rich_html_list_directly_after_paragraph_and_back():
    m = Markup().line("a").bullet("x").bullet("y").line("b")
    out = render_rich_html(m)
    assert out == "<p>a</p><ul><li>x</li><li>y</li></ul><p>b</p>"


def test_render_rich_html_empty():
    assert render_rich_html(Markup()) == ""


# --------------------------------------------------------------------------------------------
# split
# --------------------------------------------------------------------------------------------


def assert_valid_split(markup: Markup, parts: list[Markup], limit: int, measure=render_html):
    """Every part fits, no part is empty, and no character or style is lost or reordered."""
    assert parts, "split returned no parts"
    for index, part in enumerate(parts):
        size = len(measure(part))
        assert size <= limit, f"part {index} renders to {size} > {limit} characters"
        assert any(not line.is_blank for line in part.lines), f"part {index} is empty"
        TagChecker().check(render_html(part))
    assert char_styles(line for part in parts for line in part.lines) == char_styles(markup.lines)


def test_split_short_message_is_one_part():
    m = Markup().line("kurz")
    assert split(m, 4096) == [m]


def test_split_lands_on_paragraph_boundaries():
    # Six paragraphs of ~35% of the limit each: any two fit together, three do not.
    limit = 400
    paragraphs = [[f"Absatz {p} Zeile {i} " + "x" * 30 for i in range(3)] for p in range(6)]
    m = Markup()
    for paragraph in paragraphs:
        m.blank()
        for text in paragraph:
            m.line(text)
    parts = split(m, limit)
    assert_valid_split(m, parts, limit)
    assert len(parts) == 3
    for part in parts:
        texts = [line.plain for line in part.lines if not line.is_blank]
        # Each part holds whole paragraphs only.
        assert len(texts) % 3 == 0
        for start in range(0, len(texts), 3):
            assert texts[start : start + 3] in paragraphs
        # No part starts or ends with a paragraph break.
        assert not part.lines[0].is_blank and not part.lines[-1].is_blank


def test_split_between_lines_of_an_overlong_paragraph():
    limit = 200
    m = Markup()
    for i in range(20):
        m.bullet(f"Beschluss {i}: " + "y" * 20)
    parts = split(m, limit)
    assert len(parts) > 1
    assert_valid_split(m, parts, limit)
    # No line was cut: every part line is a whole original line.
    originals = {line.plain for line in m.lines}
    assert all(line.plain in originals for part in parts for line in part.lines)


@pytest.mark.parametrize("limit", [100, 257, 1000, 4096])
@pytest.mark.parametrize(
    "line",
    [
        Line((Span("&" * 5000),)),
        Line((Span("&" * 3000, bold=True, italic=True, code=True),), bullet=True),
        Line((Span('a&<b>"' * 900), Span("&" * 700, bold=True), Span(" ende"))),
    ],
    ids=["amp", "styled-bullet-amp", "mixed"],
)
def test_split_cuts_overlong_line_with_many_ampersands(limit, line):
    m = Markup().line("Vorher").blank().extend([line]).blank().line("Nachher")
    parts = split(m, limit)
    assert len(parts) > 1
    assert_valid_split(m, parts, limit)
    total_amp = sum(s.text.count("&") for part in parts for ln in part.lines for s in ln.spans)
    assert total_amp == sum(s.text.count("&") for s in line.spans)


def test_split_with_plain_measure():
    m = Markup().line("&" * 1000).blank().line("b" * 50)
    parts = split(m, 300, measure=lambda markup: len(render_plain(markup)))
    assert_valid_split(m, parts, 300, measure=render_plain)


ALPHABET = "abcdefghij ABC äöü ß &&&<<>>\"'#*_`{}-–…🎉"


def random_markup(rng: random.Random) -> Markup:
    """A random message: paragraphs of plain lines and bullets with random styled spans."""
    m = Markup()
    for _ in range(rng.randint(1, 12)):
        m.blank()
        for _ in range(rng.randint(1, 6)):
            spans = []
            for _ in range(rng.randint(1, 4)):
                length = rng.choice([0, 1, 5, 20, 80, 300, 1500])
                text = "".join(rng.choice(ALPHABET) for _ in range(length))
                spans.append(
                    Span(
                        text,
                        bold=rng.random() < 0.3,
                        italic=rng.random() < 0.3,
                        code=rng.random() < 0.2,
                    )
                )
            if rng.random() < 0.4:
                m.bullet(*spans)
            else:
                m.line(*spans)
    return m


@pytest.mark.parametrize("seed", range(60))
def test_split_property(seed):
    rng = random.Random(seed)
    markup = random_markup(rng)
    limit = rng.choice([120, 200, 333, 512, 1000, 4096])
    parts = split(markup, limit)
    assert_valid_split(markup, parts, limit)
    # Joining the parts' plain texts gives back every original character in order.
    strip = re.compile(rf"[\s{BULLET}]")
    joined = "".join(render_plain(p) for p in parts)
    assert strip.sub("", joined) == strip.sub("", render_plain(markup))
    # A message that fits is never split.
    if len(render_html(markup)) <= limit:
        assert parts == [markup]
