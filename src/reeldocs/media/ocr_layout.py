"""From the words Tesseract read in a picture to its lines and its title.

Tesseract reports words with a box and a confidence. This module keeps only lines that
are confidently words, strips list markers (•, -, *, "1." … whatever glyph Tesseract made
of a bullet dot), joins wrapped list items, orders lines for reading, and picks the
title: the top-most confident line clearly taller than the body text.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

MAX_LINES = 40
# Tesseract's word confidences (0-100). Lines read from real text score 90+ here;
# noise from icons, gradients and photos scores below 75 and garbage from unprepared
# light-on-dark text below 30.
MIN_LINE_CONFIDENCE = 70.0
MIN_TITLE_CONFIDENCE = 80.0
MIN_TITLE_WORD_CONFIDENCE = 50.0
# A line Tesseract was sure of in part and unsure of elsewhere deserves a second look.
UNSURE_WORD_CONFIDENCE = 80.0
SURE_WORD_CONFIDENCE = 90.0
# A title is at least this much taller than the median body line, and at least this
# share of the picture's height (so small interface text is never a title); a line with
# no other confident line to compare with must be larger still, so that a body line is
# not taken for the title when the title itself could not be read.
TITLE_HEIGHT_RATIO = 1.3
MIN_TITLE_HEIGHT_SHARE = 0.035
MIN_LONE_TITLE_HEIGHT_SHARE = 0.055
MAX_TITLE_WORDS = 14

_NUMBER_MARKER = re.compile(r"^(?:\(?\d{1,2}[.)]|[A-Za-z][.)])$")
# What Tesseract makes of a round bullet, besides symbols: "e", "o", "¢", "©", "«" …
_LETTER_LIKE_MARKER = re.compile(r"^[eoc¢©®°«»]{1,2}$")


#####TYPES
@dataclass(frozen=True)
class ScreenText:
    """What a picture shows in words: its title ("" when none) and its confident lines in
    reading order (the title among them; list markers stripped)."""

    title: str = ""
    lines: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class OcrWord:
    """A word as Tesseract read it: its box in the picture and its confidence (0-100)."""

    text: str
    left: int
    top: int
    width: int
    height: int
    confidence: float

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height


@dataclass(frozen=True)
class Line:
    words: tuple[OcrWord, ...]
    list_item: bool = False
    # where the list marker taken off this line ended, so a second look leaves it out
    marker_right: int | None = None

    @property
    def text(self) -> str:
        return joined_words(self.words)

    @property
    def left(self) -> int:
        return min(w.left for w in self.words)

    @property
    def right(self) -> int:
        return max(w.right for w in self.words)

    @property
    def top(self) -> int:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> int:
        return max(w.bottom for w in self.words)

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def size(self) -> int:
        """How large its type is: its tallest word (a line joined from two printed lines
        is as large as each of them, not as tall as both)."""
        return max(w.height for w in self.words)

    @property
    def confidence(self) -> float:
        return statistics.fmean(w.confidence for w in self.words)


def joined_words(words: Sequence[OcrWord]) -> str:
    text = ""
    for word in words:
        if text.endswith("-") and word.text[:1].islower():
            text = text[:-1] + word.text  # a word hyphenated across a line break
        else:
            text = f"{text} {word.text}" if text else word.text
    return text


def screen_text(lines_read: Sequence[Sequence[OcrWord]], height: int) -> ScreenText:
    """The title and confident lines of one picture `height` pixels tall, from the words
    of each line Tesseract found."""
    return composed(candidate_lines(lines_read), height)


def candidate_lines(lines_read: Sequence[Sequence[OcrWord]]) -> list[Line]:
    """Lines as a reader sees them (pieces of one row joined), list markers taken off."""
    lines = [Line(tuple(sorted(words, key=lambda w: w.left))) for words in lines_read if words]
    return _markers_stripped(_rows_joined(lines))


def is_unsure(line: Line) -> bool:
    """Whether Tesseract was sure of some words of the line and unsure of others."""
    confidences = [word.confidence for word in line.words]
    return (
        len(confidences) >= 2
        and min(confidences) < UNSURE_WORD_CONFIDENCE
        and max(confidences) >= SURE_WORD_CONFIDENCE
    )


def composed(lines: list[Line], height: int) -> ScreenText:
    """The title and the confident lines, in reading order, of a picture `height` tall."""
    lines = [line for line in lines if _reads_as_words(line)]
    lines = _wrapped_items_joined(_reading_order(lines))
    title_at = _title_index(lines, height)
    title = ""
    if title_at is not None:
        lines, title = _title_joined(lines, title_at)
    return ScreenText(title=title, lines=tuple(line.text for line in lines[:MAX_LINES]))


def _same_row(a: Line, b: Line) -> bool:
    overlap = min(a.bottom, b.bottom) - max(a.top, b.top)
    return overlap >= 0.6 * min(a.height, b.height)


def _rows_joined(lines: list[Line]) -> list[Line]:
    """Pieces of one line that sparse reading found apart (a bullet far from its text, a
    wide gap) joined again: same row, similar height, a gap of at most twice the height."""
    joined: list[Line] = []
    for line in sorted(lines, key=lambda item: (item.left, item.top)):
        for index, other in enumerate(joined):
            gap = line.left - other.right
            similar = 0.6 <= line.height / max(other.height, 1) <= 1.7 or (
                len(other.words) == 1 and len(other.words[0].text) <= 3  # a list marker
            )
            if _same_row(other, line) and similar and -2 <= gap <= 2 * max(other.height, 1):
                joined[index] = Line(other.words + line.words)
                break
        else:
            joined.append(line)
    return joined


def _markers_stripped(lines: list[Line]) -> list[Line]:
    """List markers recognised and taken off the line, which becomes a list item."""
    result: list[Line] = []
    for line in lines:
        first, rest = line.words[0], line.words[1:]
        if rest and _is_marker(first, rest):
            result.append(Line(rest, list_item=True, marker_right=first.right))
        else:
            result.append(line)
    return result


def _is_marker(first: OcrWord, rest: Sequence[OcrWord]) -> bool:
    if _NUMBER_MARKER.match(first.text):
        return True
    if len(first.text) > 2:
        return False
    if not any(character.isalnum() for character in first.text):
        return True  # •, -, *, ›, ▪ … or what Tesseract made of them
    # a glyph read as a letter: smaller than the text and set apart from it
    body = statistics.median(w.height for w in rest)
    gap = rest[0].left - first.right
    return bool(
        _LETTER_LIKE_MARKER.match(first.text) and first.height <= 0.6 * body and gap >= 0.5 * body
    )


def _reads_as_words(line: Line) -> bool:
    """Confidently read words: real text, not what Tesseract made of icons or texture."""
    text = line.text
    visible = [character for character in text if not character.isspace()]
    letters = sum(character.isalpha() for character in visible)
    if line.confidence < MIN_LINE_CONFIDENCE or letters < 0.6 * len(visible):
        return False
    return any(
        sum(character.isalpha() for character in word.text) >= 3 and word.confidence >= 80
        for word in line.words
    )


def _reading_order(lines: list[Line]) -> list[Line]:
    """Top to bottom, and column by column where the lines stand in clear columns:
    the picture is cut along its widest empty band, again and again (an XY cut)."""
    if len(lines) < 2:
        return lines
    best: tuple[float, str, float] | None = None
    for axis in ("y", "x"):
        spans = sorted(
            (line.top, line.bottom) if axis == "y" else (line.left, line.right) for line in lines
        )
        reach = spans[0][1]
        for start, end in spans[1:]:
            if start > reach:
                # rows come first: a gap between columns must be twice as wide to win
                gap = (start - reach) / (1 if axis == "y" else 2)
                if best is None or gap > best[0]:
                    best = (gap, axis, (reach + start) / 2)
            reach = max(reach, end)
    if best is None:
        return sorted(lines, key=lambda line: (line.top, line.left))
    _, axis, at = best
    before = [line for line in lines if (line.top if axis == "y" else line.left) < at]
    after = [line for line in lines if (line.top if axis == "y" else line.left) >= at]
    return _reading_order(before) + _reading_order(after)


def _wrapped_items_joined(lines: list[Line]) -> list[Line]:
    """Text that wrapped onto the next line joined back into the line it continues."""
    result: list[Line] = []
    last: Line | None = None  # the line as printed that `result[-1]` ends with
    for line in lines:
        if last is not None and _continues(last, line, starts_item=result[-1].list_item):
            result[-1] = replace(result[-1], words=result[-1].words + line.words)
        else:
            result.append(line)
        last = line
    return result


def _continues(above: Line, line: Line, *, starts_item: bool) -> bool:
    """Whether `line` is the rest of the text `above` wrapped: the same size, aligned with
    it and right below it; and either the rest of a list item (no marker of its own), or
    as close as lines of one paragraph are (within 1.45 line heights, as against 1.6 and
    more between list items and paragraphs) and starting in lower case."""
    height = max(above.size, line.size)
    if (
        line.list_item
        or abs(line.left - above.left) > 0.6 * height
        or abs(line.size - above.size) > 0.35 * height
        or line.top < above.bottom
    ):
        return False
    if starts_item and line.top - above.bottom <= 0.7 * height:
        return True
    return line.top - above.top <= 1.45 * height and line.text[:1].islower()


def _title_index(lines: list[Line], height: int) -> int | None:
    """The top-most line that can be a title: confidently read, large, not a list item."""
    candidates = sorted(range(len(lines)), key=lambda i: (lines[i].top, lines[i].left))
    for index in candidates:
        line = lines[index]
        others = [other.size for other in lines if other is not line]
        if others:
            large = line.size >= max(
                MIN_TITLE_HEIGHT_SHARE * height, TITLE_HEIGHT_RATIO * statistics.median(others)
            )
        else:
            large = line.size >= MIN_LONE_TITLE_HEIGHT_SHARE * height
        if (
            large
            and not line.list_item
            and line.confidence >= MIN_TITLE_CONFIDENCE
            and min(w.confidence for w in line.words) >= MIN_TITLE_WORD_CONFIDENCE
            and len(line.words) <= MAX_TITLE_WORDS
        ):
            return index
    return None


def _title_joined(lines: list[Line], index: int) -> tuple[list[Line], str]:
    """A title that wrapped onto a next line of the same size is one title."""
    title = last = lines[index]
    result = list(lines)
    while index + 1 < len(result):
        following = result[index + 1]
        if not (
            abs(following.size - last.size) <= 0.2 * last.size
            and 0 <= following.top - last.bottom <= 0.8 * last.size
            and following.confidence >= MIN_TITLE_CONFIDENCE
            and not following.list_item
            and len(title.words) + len(following.words) <= MAX_TITLE_WORDS
        ):
            break
        title, last = Line(title.words + following.words), following
        result[index : index + 2] = [title]
    return result, title.text
