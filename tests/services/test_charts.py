"""Poll and survey result charts: real PNGs, checked pixel by pixel.

Bars are found the way a reader finds them: runs of bar-coloured pixels in a pixel column just
right of the bars' common left edge give the bars' rows, and the bar-coloured run along each
row's centre gives its length. The layout (:func:`chart_layout`) is only used to find where a
zero bar (which has no bar pixels at all) and the title are.
"""

from __future__ import annotations

import io
import threading
import warnings

import numpy as np
import pytest
from PIL import Image

from bot.services import charts

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
QUESTION = "Wann treffen wir uns zur Übergabe der Schlüssel für den Gemeinschaftsgarten?"
SUBTITLE = "8 von 12 Mitgliedern haben abgestimmt · Quorum erreicht"


def rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=int)


HIGHLIGHT = rgb(charts.HIGHLIGHT_COLOUR)
NEUTRAL = rgb(charts.NEUTRAL_COLOUR)
TRACK = rgb(charts.TRACK_COLOUR)


def pixels(png: bytes) -> np.ndarray:
    """The image as a height × width × 3 array of ints."""
    assert png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"), dtype=int)


def matches(image: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Which pixels have ``colour`` (within a small tolerance for antialiased edges)."""
    return np.abs(image - colour).max(axis=-1) <= 6


def runs(mask: np.ndarray, *, min_length: int = 1) -> list[tuple[int, int]]:
    """The ``(start, stop)`` of each run of True in a 1-d mask."""
    padded = np.concatenate(([False], mask, [False])).astype(int)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a >= min_length]


def longest_run(mask: np.ndarray) -> int:
    """The longest horizontal run of True in a 2-d mask."""
    return max((b - a for row in mask for a, b in runs(row)), default=0)


def bars(image: np.ndarray) -> list[tuple[str, int, int]]:
    """Each drawn bar, top to bottom, as ``(colour name, centre row, length in pixels)``."""
    left = charts.chart_layout("x", ["x"], [1]).rows[0].bar_left  # the same for every chart
    found = []
    for name, colour in (("highlight", HIGHLIGHT), ("neutral", NEUTRAL)):
        column = matches(image[:, int(left) + 2], colour)
        for top, bottom in runs(column, min_length=20):
            centre = (top + bottom) // 2
            (start, stop), *_ = runs(matches(image[centre], colour))
            assert start == left
            found.append((top, name, centre, stop - start))
    return [(name, centre, length) for _, name, centre, length in sorted(found)]


def test_a_png_of_phone_size_that_grows_with_the_bars() -> None:
    heights = []
    for count in (1, 2, 5, 10):
        png = charts.bar_chart(
            QUESTION, [f"Termin {i}" for i in range(count)], range(count), subtitle=SUBTITLE
        )
        image = pixels(png)
        assert image.shape[1] == charts.WIDTH == 1080
        assert len(png) < 200_000
        heights.append(image.shape[0])
    assert heights == sorted(heights) and len(set(heights)) == 4
    assert 80 <= (heights[3] - heights[2]) / 5 <= 100  # about 90 px per bar
    assert heights[3] < 1600


def test_bar_lengths_follow_the_values_and_the_winner_is_highlighted() -> None:
    values = [5, 3, 0, 8, 1, 2]
    labels = ["Montag, 18 Uhr", "Dienstag", "Mittwoch", "Donnerstag früh", "Freitag", "Samstag"]
    shares = [f"{v} ({round(100 * v / 19)} %)" for v in values]
    png = charts.bar_chart(QUESTION, labels, values, value_labels=shares, subtitle=SUBTITLE, highlight=3)
    image = pixels(png)

    found = bars(image)
    drawn = [v for v in values if v > 0]
    assert [name for name, _, _ in found] == ["neutral", "neutral", "highlight", "neutral", "neutral"]
    longest = max(length for _, _, length in found)
    assert longest > 600  # the winner's bar spans most of the width
    for (_, _, length), value in zip(found, drawn, strict=True):
        assert length / longest == pytest.approx(value / max(values), abs=0.01)
    centres = [centre for _, centre, _ in found]
    assert centres == sorted(centres)  # order as given, first on top

    # The zero bar: its track is there, without a single bar-coloured pixel.
    zero = charts.chart_layout(QUESTION, labels, values, value_labels=shares, subtitle=SUBTITLE).rows[2]
    band = image[int(zero.bar_top) : int(zero.bar_top + zero.bar_height)]
    start = int(zero.bar_left)
    assert matches(band[:, start : start + 10], TRACK).all()
    assert not matches(band, HIGHLIGHT).any()
    assert longest_run(matches(band, NEUTRAL)) < 5  # only the antialiased edges of the "0"
    centre_row = image[int(zero.bar_top + zero.bar_height / 2)]
    assert matches(centre_row, TRACK).sum() > 0.9 * zero.track_length
    # ... and its "0" right at the start of the track.
    assert (band[:, start : start + 60] < 100).all(axis=-1).any()


def test_without_a_highlight_every_bar_has_the_main_colour() -> None:
    found = bars(
        pixels(charts.bar_chart("Wie zufrieden bist du?", ["gut", "mittel", "schlecht"], [2.5, 5, 1]))
    )
    assert [name for name, _, _ in found] == ["highlight"] * 3
    assert [length / found[1][2] for _, _, length in found] == pytest.approx([0.5, 1, 0.2], abs=0.01)


def test_all_zero_values_render_empty_bars() -> None:
    labels = ["Ja", "Nein", "Enthaltung"]
    png = charts.bar_chart("Noch keine Stimmen", labels, [0, 0, 0], subtitle="0 von 12 haben abgestimmt")
    image = pixels(png)
    assert not matches(image, HIGHLIGHT).any()
    layout = charts.chart_layout(
        "Noch keine Stimmen", labels, [0, 0, 0], subtitle="0 von 12 haben abgestimmt"
    )
    for row in layout.rows:
        band = image[int(row.bar_top) : int(row.bar_top + row.bar_height)]
        assert longest_run(matches(band, NEUTRAL)) < 5
        assert matches(band[:, int(row.bar_left) : int(row.bar_left + row.track_length)], TRACK).mean() > 0.9
        assert (band[:, int(row.bar_left) : int(row.bar_left) + 60] < 100).all(axis=-1).any()  # the "0"


def test_ten_options_with_long_labels() -> None:
    labels = [f"Möglichkeit {i}: " + "sehr lange Beschreibung mit Überlänge " * 4 for i in range(10)]
    values = [10 - i for i in range(10)]
    png = charts.bar_chart(QUESTION, labels, values, highlight=0)
    image = pixels(png)
    assert len(png) < 200_000
    found = bars(image)
    assert [name for name, _, _ in found] == ["highlight"] + ["neutral"] * 9
    for (_, _, length), value in zip(found, values, strict=True):
        assert length / found[0][2] == pytest.approx(value / 10, abs=0.01)
    layout = charts.chart_layout(QUESTION, labels, values, highlight=0)
    assert all(len(row.label_lines) == 2 and row.label_lines[1].endswith("…") for row in layout.rows)
    # Nothing is drawn into the right margin: the labels were wrapped and shortened.
    assert (image[:, -40:] == 255).all()


def test_a_long_umlaut_title_wraps_without_warnings() -> None:
    title = (
        "Größere Änderungen an der Geschäftsordnung: Überprüfung der Öffnungszeiten, "
        "Übernahme der Schlüsseldienste und Gebührenermäßigung für Jugendliche – ja oder nein?"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = charts.bar_chart(title, ["Ja", "Nein"], [7, 4], subtitle=SUBTITLE, highlight=0)
    layout = charts.chart_layout(title, ["Ja", "Nein"], [7, 4], subtitle=SUBTITLE, highlight=0)
    assert 2 <= len(layout.title_lines) <= 3
    assert "Größere" in layout.title_lines[0]
    image = pixels(png)
    header = image[: int(layout.rows[0].label_top)]
    dark = np.flatnonzero((header < 100).all(axis=-1).any(axis=0))
    assert dark.min() >= 40 and dark.max() < charts.WIDTH - 40  # inside the margins
    assert dark.max() > charts.WIDTH / 2  # and filling the lines, not a narrow column


def test_user_text_is_drawn_literally_and_without_missing_glyphs() -> None:
    labels = ["Pizza 🍕 für $5$ pro Person", "🎉🎉", "Ab\nends\tspät"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = charts.bar_chart("Essen 🍽️ für 50 $?", labels, [3, 1, 2], value_labels=["3 👍", "1", "2"])
    assert pixels(png).shape[1] == charts.WIDTH
    layout = charts.chart_layout("Essen 🍽️ für 50 $?", labels, [3, 1, 2], value_labels=["3 👍", "1", "2"])
    assert layout.title_lines == ("Essen für 50 $?",)
    assert [row.label_lines for row in layout.rows] == [
        ("Pizza für $5$ pro Person",),
        ("2.",),
        ("Ab ends spät",),
    ]
    assert layout.value_labels == ("3", "1", "2")


def test_same_input_same_bytes_also_from_threads() -> None:
    def render() -> bytes:
        return charts.bar_chart(QUESTION, ["A", "B", "C"], [1, 2, 3], subtitle=SUBTITLE, highlight=2)

    first = render()
    assert render() == first
    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(render())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [first] * 4
    assert b"Software" not in first and b"tIME" not in first


def test_labels_are_large_enough_for_a_phone() -> None:
    image = pixels(charts.bar_chart("Titel", ["Hg"], [1]))
    row = charts.chart_layout("Titel", ["Hg"], [1]).rows[0]
    label = image[int(row.label_top) : int(row.bar_top), : int(row.bar_left) + 80]
    ink = np.flatnonzero((label < 128).all(axis=-1).any(axis=1))
    assert ink.max() - ink.min() >= 24  # "H" top to "g" bottom, in pixels


@pytest.mark.parametrize(
    ("labels", "values", "highlight"),
    [
        ([], [], None),
        (["a"] * 21, [1] * 21, None),
        (["a", "b"], [1], None),
        (["a"], [-1], None),
        (["a"], [float("nan")], None),
        (["a", "b"], [1, 2], 2),
    ],
)
def test_bad_arguments(labels: list[str], values: list[float], highlight: int | None) -> None:
    with pytest.raises(ValueError):
        charts.bar_chart("t", labels, values, highlight=highlight)


def test_warm_up() -> None:
    charts.warm_up()
