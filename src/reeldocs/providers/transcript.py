"""Timed words to transcript segments, for any recogniser that gives word timings.

A segment is the unit the rest of Reeldocs works with: subtitle cues are cut inside
segments, the offline writer quotes them, and a segment's start is where a
`[video:MM:SS]` moment points. So a segment should read as whole sentences, stay on
one screen, and be short enough that its start is a useful place to jump to.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence

from reeldocs.providers.base import Scene, Segment, Word

# Whisper writes cased, punctuated words, so a sentence end is visible in the text: a
# segment ends at one once it has lasted this long (shorter sentences are joined).
MIN_SENTENCE_SEGMENT_SECONDS = 3.0
# Silence this long ends a segment whatever the punctuation says. Whisper's word times
# often stretch a word over part of the silence after it, so shorter gaps are unreliable.
PAUSE_SECONDS = 1.0
MAX_SEGMENT_SECONDS = 15.0

_SENTENCE_END = re.compile(r"[.!?…。！？]['\"’”)\]]*$")
_CLAUSE_END = re.compile(r"[.!?…。！？,;:，、；：]['\"’”)\]]*$")


def format_timestamp(seconds: float) -> str:
    """M:SS, or H:MM:SS past an hour, as people read video times."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def tidy_sentence(text: str) -> str:
    """Capitalised first letter and closing punctuation, nothing else changed."""
    text = " ".join(text.split())
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    if text[-1] in ".!?…。！？":
        return text
    return text.rstrip(",;:-–— ") + "."


def describe_scene(scenes: Sequence[Scene], start: float, end: float) -> str:
    """Which scene a stretch of time falls in (the one it overlaps most), with its text."""
    if not scenes:
        return ""
    overlaps = [min(end, scene.end) - max(start, scene.start) for scene in scenes]
    index = max(range(len(scenes)), key=lambda i: (overlaps[i], -i))
    if overlaps[index] <= 0:
        middle = (start + end) / 2
        index = min(range(len(scenes)), key=lambda i: abs(scenes[i].start - middle))
    scene = scenes[index]
    label = (
        f"Scene {index + 1} of {len(scenes)} "
        f"({format_timestamp(scene.start)}–{format_timestamp(scene.end)})"
    )
    on_screen = " ".join(scene.text.split())
    if len(on_screen) > 200:
        on_screen = on_screen[:199].rstrip() + "…"
    return f"{label}: {on_screen}" if on_screen else label


def _middle(word: Word) -> float:
    return (word.start + max(word.end, word.start)) / 2


def ends_sentence(word: Word) -> bool:
    return bool(_SENTENCE_END.search(word.text))


def _best_cut(words: Sequence[Word], first: int, last: int, min_seconds: float) -> int:
    """Where to split words[first:last], which grew too long: after its latest clause end
    (a sentence end or a comma) that leaves `min_seconds` before it, else at its longest
    silence between two words."""
    for index in range(last - 1, first, -1):
        long_enough = words[index - 1].end - words[first].start >= min_seconds
        if long_enough and _CLAUSE_END.search(words[index - 1].text):
            return index
    gaps = range(first + 1, last)
    return max(gaps, key=lambda index: (words[index].start - words[index - 1].end, index))


def segment_spans(
    words: Sequence[Word],
    scenes: Sequence[Scene],
    *,
    pause: float = PAUSE_SECONDS,
    min_sentence_seconds: float = MIN_SENTENCE_SEGMENT_SECONDS,
    max_seconds: float = MAX_SEGMENT_SECONDS,
) -> list[tuple[int, int]]:
    """Index ranges [first, last) of time-ordered words that make one segment each.

    A segment ends at a sentence end once it lasts `min_sentence_seconds`, at a long
    pause, at a scene cut (so it never straddles two screens), and before it would last
    more than `max_seconds` (then at its latest clause end, else its longest silence).
    """
    cut_times = sorted(scene.start for scene in scenes if scene.start > 0)
    spans: list[tuple[int, int]] = []
    first = 0
    for index in range(1, len(words)):
        previous, word = words[index - 1], words[index]
        # A word is on the screen shown at its middle: recognisers often start a word's
        # time a few tenths early, which would leave "Finally," alone before a cut.
        crosses_cut = bisect.bisect_right(cut_times, _middle(previous)) != bisect.bisect_right(
            cut_times, _middle(word)
        )
        sentence_done = (
            ends_sentence(previous) and previous.end - words[first].start >= min_sentence_seconds
        )
        if word.start - previous.end >= pause or crosses_cut or sentence_done:
            spans.append((first, index))
            first = index
            continue
        # The only words that can hold one segment longer than the limit are single ones.
        while index > first and word.end - words[first].start > max_seconds:
            cut = index
            if index - first > 1:
                cut = _best_cut(words, first, index + 1, min_sentence_seconds)
            spans.append((first, cut))
            first = cut
    if words:
        spans.append((first, len(words)))
    return spans


def build_segments(
    words: Sequence[Word],
    scenes: Sequence[Scene],
    render_text: Callable[[int, int], str],
) -> list[Segment]:
    """Segments from time-ordered words; `render_text(first, last)` writes a span's text."""
    segments: list[Segment] = []
    for first, last in segment_spans(words, scenes):
        span = list(words[first:last])
        start, end = span[0].start, max(word.end for word in span)
        text = tidy_sentence(render_text(first, last))
        if not text:
            continue
        segments.append(
            Segment(
                start_time=start,
                end_time=end,
                spoken_content=text,
                visual_context=describe_scene(scenes, start, end),
                words=span,
            )
        )
    return segments
