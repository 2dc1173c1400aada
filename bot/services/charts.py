"""Horizontal bar charts as PNG images: poll results now, survey results later.

The charts are made for a phone: 1080 px wide, one row per option (its label above, the bar
below, the value at the bar's end), large type, the question as a wrapped title. Colours follow
the Okabe–Ito palette, and the highlighted bar differs from the others in lightness as well as
hue, so it stands out for every kind of colour vision and in greyscale.

Rendering is pure and synchronous; callers run it off the event loop::

    png = await asyncio.to_thread(charts.bar_chart, question, options, counts, highlight=0)

matplotlib is imported on the first call only, so the bot's start-up does not pay for it;
:func:`warm_up` (in a thread at start) moves that cost out of the first poll result. Only the
object-oriented API is used (a ``Figure`` with its own ``FigureCanvasAgg``, no pyplot state), and
one lock serialises renders because matplotlib's shared caches are not documented as
thread-safe; a render takes under 0.1 s. All text is set in the DejaVu Sans that ships with
matplotlib, never a system font, and the PNG carries no time stamp or version, so the same input
gives the same bytes (with the same matplotlib and FreeType).
"""

from __future__ import annotations

import io
import math
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

WIDTH = 1080
"""Image width in pixels."""
MAX_BARS = 20
"""More bars than this would not be readable on a phone (polls allow 10 options)."""

HIGHLIGHT_COLOUR = "#0072B2"
"""The highlighted bar (Okabe–Ito blue); every bar when nothing is highlighted."""
NEUTRAL_COLOUR = "#BBBBBB"
"""The other bars when one is highlighted (Paul Tol's grey: far lighter than the blue)."""
TRACK_COLOUR = "#EEEEEE"
"""The empty track behind every bar: the scale, and what a zero bar shows."""
TEXT_COLOUR = "#111111"
SUBTITLE_COLOUR = "#444444"
BACKGROUND = "#FFFFFF"

# Layout in pixels. The figure's dpi is 72, so a font size in points is the same in pixels.
_DPI = 72
_MARGIN = 48
_TOP = 40
_BOTTOM = 40
_TITLE_PX, _TITLE_LINE, _TITLE_LINES = 42, 54, 3
_SUBTITLE_PX, _SUBTITLE_LINE, _SUBTITLE_LINES = 28, 38, 2
_AFTER_TITLE = 10
_AFTER_HEADER = 34
_LABEL_PX, _LABEL_LINE, _LABEL_LINES = 30, 38, 2
_VALUE_PX = 30
_LABEL_GAP = 4
_BAR_HEIGHT = 36
_ROW_GAP = 14
_VALUE_GAP = 14
_MIN_BAR_SPACE = 0.5  # of the width between the margins, however wide the value labels are

_lock = threading.Lock()


@dataclass(frozen=True)
class BarRow:
    """Where one option's row went, in pixels from the image's top left corner.

    Attributes:
        label_lines: The label as drawn (wrapped, shortened, unsupported characters dropped).
        label_top: Top of the label's first line.
        bar_left: Left edge of the bar and its track.
        bar_top: Top edge of the bar and its track.
        bar_height: Height of the bar.
        bar_length: Length of the bar (0 for a zero value).
        track_length: Length of the track: the length of a bar with the largest value.
    """

    label_lines: tuple[str, ...]
    label_top: float
    bar_left: float
    bar_top: float
    bar_height: float
    bar_length: float
    track_length: float


@dataclass(frozen=True)
class ChartLayout:
    """The computed layout of a chart: image size, wrapped header and rows.

    Attributes:
        width: Image width in pixels.
        height: Image height in pixels.
        title_lines: The wrapped title.
        subtitle_lines: The wrapped subtitle (empty without one).
        rows: One :class:`BarRow` per value, top to bottom in the order given.
        value_labels: The text at the end of each bar.
    """

    width: int
    height: int
    title_lines: tuple[str, ...]
    subtitle_lines: tuple[str, ...]
    rows: tuple[BarRow, ...]
    value_labels: tuple[str, ...]


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    value_labels: Sequence[str] | None = None,
    subtitle: str | None = None,
    highlight: int | None = None,
) -> bytes:
    """Render a horizontal bar chart as PNG bytes.

    Bars keep the order given (first on top) and are scaled to the largest value; with all values
    zero every bar is empty. The image is 1080 px wide and grows by about 90 px per bar.

    Args:
        title: The heading, e.g. the poll's question; wrapped to at most three lines.
        labels: One label per bar, drawn above it; wrapped to at most two lines.
        values: One non-negative number per bar.
        value_labels: The text at the end of each bar, e.g. ``"5 (62 %)"``; defaults to the value.
        subtitle: A smaller line under the title, e.g. who voted and whether the quorum was met.
        highlight: Index of the bar to single out (e.g. the winning option): it is drawn in
            :data:`HIGHLIGHT_COLOUR` with a bold label and the others in :data:`NEUTRAL_COLOUR`.
            Without it every bar is drawn in :data:`HIGHLIGHT_COLOUR`.

    Returns:
        The PNG image.

    Raises:
        ValueError: No bars, more than :data:`MAX_BARS`, lengths that differ, a negative or
            non-finite value, or a highlight index out of range.
    """
    with _lock:
        layout = _layout(title, labels, values, value_labels, subtitle, highlight)
        return _render(layout, highlight)


def chart_layout(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    value_labels: Sequence[str] | None = None,
    subtitle: str | None = None,
    highlight: int | None = None,
) -> ChartLayout:
    """The layout :func:`bar_chart` draws for the same arguments, without drawing it.

    Takes the same arguments and raises the same errors as :func:`bar_chart`.
    """
    with _lock:
        return _layout(title, labels, values, value_labels, subtitle, highlight)


def warm_up() -> None:
    """Import matplotlib and render one small chart, so the first real chart is fast.

    Blocking (a fraction of a second, longer when matplotlib builds its font cache on a new
    machine): call it in a thread at start-up, e.g. ``await asyncio.to_thread(charts.warm_up)``.
    """
    bar_chart("Ää", ["Öö", "Üß"], [1, 0], value_labels=["1 (100 %)", "0"], subtitle="·…", highlight=0)


def _layout(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    value_labels: Sequence[str] | None,
    subtitle: str | None,
    highlight: int | None,
) -> ChartLayout:
    """Check the arguments and place everything; see :func:`bar_chart`."""
    count = len(values)
    if not 1 <= count <= MAX_BARS:
        raise ValueError(f"a bar chart needs 1 to {MAX_BARS} bars, not {count}")
    if len(labels) != count or (value_labels is not None and len(value_labels) != count):
        raise ValueError("labels, values and value labels must have the same length")
    numbers = [float(v) for v in values]
    if any(not math.isfinite(v) or v < 0 for v in numbers):
        raise ValueError("bar values must be finite and not negative")
    if highlight is not None and not 0 <= highlight < count:
        raise ValueError(f"highlight {highlight} is not a bar index")

    fonts = _fonts()
    inner = WIDTH - 2 * _MARGIN
    title_lines = _wrap(_drawable(title) or "…", fonts.bold, _TITLE_PX, inner, _TITLE_LINES)
    subtitle_text = _drawable(subtitle or "")
    subtitle_lines = (
        _wrap(subtitle_text, fonts.regular, _SUBTITLE_PX, inner, _SUBTITLE_LINES) if subtitle_text else ()
    )
    texts = (
        [_drawable(v) for v in value_labels] if value_labels is not None else [_number(v) for v in numbers]
    )
    value_space = inner * (1 - _MIN_BAR_SPACE) - _VALUE_GAP
    texts = [_wrap(t, fonts.bold, _VALUE_PX, value_space, 1)[0] if t else "" for t in texts]
    widest_value = max(_text_width(t, fonts.bold, _VALUE_PX) for t in texts)
    track = max(inner * _MIN_BAR_SPACE, inner - _VALUE_GAP - widest_value)
    largest = max(numbers)

    y = _TOP + len(title_lines) * _TITLE_LINE
    if subtitle_lines:
        y += _AFTER_TITLE + len(subtitle_lines) * _SUBTITLE_LINE
    y += _AFTER_HEADER
    rows = []
    for index, (label, value) in enumerate(zip(labels, numbers, strict=True)):
        font = fonts.bold if index == highlight else fonts.regular
        lines = _wrap(_drawable(label) or f"{index + 1}.", font, _LABEL_PX, inner, _LABEL_LINES)
        bar_top = y + len(lines) * _LABEL_LINE + _LABEL_GAP
        # Whole pixels, so the bars' edges are crisp and their lengths exact; any vote is visible.
        length = max(2, round(track * value / largest)) if value > 0 else 0
        rows.append(BarRow(lines, y, _MARGIN, bar_top, _BAR_HEIGHT, length, round(track)))
        y = bar_top + _BAR_HEIGHT + _ROW_GAP
    height = y - _ROW_GAP + _BOTTOM
    return ChartLayout(WIDTH, height, title_lines, subtitle_lines, tuple(rows), tuple(texts))


def _render(layout: ChartLayout, highlight: int | None) -> bytes:
    """Draw a layout and encode it as PNG."""
    import matplotlib

    fonts = _fonts()
    with matplotlib.rc_context(_RC):
        return _draw(layout, highlight, fonts)


# What a local matplotlibrc could set that would hand user text to LaTeX or the math parser. (Only
# long-lived keys: a deprecated one is a warning, and warnings are errors in the tests.)
_RC = {"text.usetex": False, "text.parse_math": False}


def _draw(layout: ChartLayout, highlight: int | None, fonts: _Fonts) -> bytes:
    """Draw a layout and encode it as PNG (with :data:`_RC` in force)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(layout.width / _DPI, layout.height / _DPI), dpi=_DPI, facecolor=BACKGROUND)
    canvas = FigureCanvasAgg(figure)
    # Artists straight on the figure (an Axes would cost a third of the time for nothing).
    paint = _Painter(figure, layout.height)
    y = _TOP
    for line in layout.title_lines:
        paint.text(_MARGIN, y + _TITLE_LINE / 2, line, fonts.bold, _TITLE_PX, TEXT_COLOUR)
        y += _TITLE_LINE
    if layout.subtitle_lines:
        y += _AFTER_TITLE
        for line in layout.subtitle_lines:
            paint.text(_MARGIN, y + _SUBTITLE_LINE / 2, line, fonts.regular, _SUBTITLE_PX, SUBTITLE_COLOUR)
            y += _SUBTITLE_LINE

    for index, (row, value_text) in enumerate(zip(layout.rows, layout.value_labels, strict=True)):
        chosen = index == highlight
        for number, line in enumerate(row.label_lines):
            centre = row.label_top + (number + 0.5) * _LABEL_LINE
            paint.text(
                row.bar_left, centre, line, fonts.bold if chosen else fonts.regular, _LABEL_PX, TEXT_COLOUR
            )
        paint.box(row.bar_left, row.bar_top, row.track_length, row.bar_height, TRACK_COLOUR)
        if row.bar_length > 0:
            colour = HIGHLIGHT_COLOUR if highlight is None or chosen else NEUTRAL_COLOUR
            paint.box(row.bar_left, row.bar_top, row.bar_length, row.bar_height, colour)
        value_x = row.bar_left + row.bar_length + _VALUE_GAP
        paint.text(value_x, row.bar_top + row.bar_height / 2, value_text, fonts.bold, _VALUE_PX, TEXT_COLOUR)

    canvas.draw()
    return _encode_png(canvas.buffer_rgba())


class _Painter:
    """Draws on a figure in pixels from the image's top left corner."""

    def __init__(self, figure: Figure, height: int) -> None:
        from matplotlib.transforms import Affine2D

        self.figure = figure
        # Display coordinates are pixels from the bottom left (the figure's dpi is fixed).
        self.pixels = Affine2D().scale(1, -1).translate(0, height)

    def box(self, x: float, y: float, width: float, height: float, colour: str) -> None:
        """Fill a rectangle with its top left corner at ``(x, y)``."""
        from matplotlib.patches import Rectangle

        rectangle = Rectangle((x, y), width, height, facecolor=colour, linewidth=0, transform=self.pixels)
        self.figure.add_artist(rectangle)

    def text(self, x: float, y: float, text: str, font: FontProperties, size: int, colour: str) -> None:
        """Draw one line of user text: left-aligned, vertically centred, never parsed as math."""
        self.figure.text(
            x,
            y,
            text,
            transform=self.pixels,
            fontproperties=font,
            fontsize=size,
            color=colour,
            ha="left",
            va="center_baseline",
            parse_math=False,
            usetex=False,
            wrap=False,
        )


def _encode_png(rgba: memoryview) -> bytes:
    """Encode an image as PNG, with a palette when it has at most 256 colours (it usually has).

    Flat bars and antialiased dark text on white and light grey rarely need more; a palette is
    lossless then and makes the file about three times smaller than RGBA. Pillow
    writes no time stamp or software version, so the bytes depend on the pixels only.
    """
    import numpy as np
    from PIL import Image

    rgb = np.ascontiguousarray(np.asarray(rgba, dtype=np.uint8)[..., :3])  # the background is opaque
    image = Image.fromarray(rgb)  # uint8 rows × columns × 3: "RGB"
    buffer = io.BytesIO()
    colours = image.getcolors(256)
    if colours is None:
        image.save(buffer, format="PNG")
        return buffer.getvalue()
    keys = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) | rgb[..., 2]
    palette = np.array(sorted((r << 16) | (g << 8) | b for _, (r, g, b) in colours), dtype=np.uint32)
    indexed = Image.fromarray(np.searchsorted(palette, keys).astype(np.uint8))  # 2-d uint8: "L"
    indexed.putpalette(
        np.stack([palette >> 16, (palette >> 8) & 255, palette & 255], axis=1).astype(np.uint8).tobytes()
    )
    indexed.save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class _Fonts:
    regular: FontProperties
    bold: FontProperties
    charset: frozenset[int]
    measure: Any  # a RendererAgg used only to measure text


@cache
def _fonts() -> _Fonts:
    """The bundled DejaVu Sans faces, the characters both cover and a renderer to measure text."""
    from pathlib import Path

    import matplotlib
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties
    from matplotlib.ft2font import FT2Font

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
    charset = frozenset(FT2Font(str(regular)).get_charmap()) & frozenset(FT2Font(str(bold)).get_charmap())
    return _Fonts(FontProperties(fname=regular), FontProperties(fname=bold), charset, RendererAgg(1, 1, _DPI))


def _drawable(text: str) -> str:
    """``text`` on one line with only characters the font can draw.

    Emoji and other characters DejaVu Sans lacks would be empty boxes and a warning each; they
    go, together with what only modifies them (variation selectors, joiners, combining marks,
    format characters such as a soft hyphen or bidi controls).
    """
    charset = _fonts().charset
    kept: list[str] = []
    for char in unicodedata.normalize("NFC", text):
        category = unicodedata.category(char)
        if category in ("Cf", "Cc", "Me") or "\ufe00" <= char <= "\ufe0f" or ord(char) not in charset:
            kept.append(" ")
        elif category != "Mn" or (kept and not kept[-1].isspace()):
            kept.append(char)
    return " ".join("".join(kept).split())


def _text_width(text: str, font: FontProperties, size: int) -> float:
    """Width in pixels of ``text`` in ``font`` at ``size`` px, as Agg will draw it."""
    if not text:
        return 0.0
    sized = font.copy()
    sized.set_size(size)
    width, _, _ = _fonts().measure.get_text_width_height_descent(text, sized, ismath=False)
    return width


def _wrap(text: str, font: FontProperties, size: int, width: float, max_lines: int) -> tuple[str, ...]:
    """Wrap ``text`` into at most ``max_lines`` lines no wider than ``width`` pixels.

    Greedy by measured width (``textwrap`` counts characters, and "WWW" is twice as wide as "iii"),
    a word too long for a line is broken, and what does not fit ends the last line as "…".
    """

    def fits(line: str) -> bool:
        return _text_width(line, font, size) <= width

    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if fits(candidate):
            current = candidate
            continue
        if current:
            lines.append(current)
        while len(word) > 1 and not fits(word):
            cut = next(i for i in range(len(word) - 1, 0, -1) if fits(word[:i]) or i == 1)
            lines.append(word[:cut])
            word = word[cut:]
        current = word
        if len(lines) > max_lines:
            break
    if current:
        lines.append(current)
    if len(lines) <= max_lines:
        return tuple(lines)
    last = lines[max_lines - 1]
    while " " in last and not fits(f"{last} …"):
        last = last.rsplit(" ", 1)[0]
    while len(last) > 1 and not fits(f"{last} …"):
        last = last[:-1].rstrip()
    return (*lines[: max_lines - 1], f"{last} …")


def _number(value: float) -> str:
    """A value without a needless ``.0``: ``5``, ``2.5``."""
    return str(int(value)) if value.is_integer() else f"{value:.3g}"
