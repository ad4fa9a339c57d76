"""Which chapter of one list is which chapter of another, by where they sit in the video.

Titles change between runs (and between languages); the stretch of video a chapter covers
does not change much. A chapter covers the video from its start to the next chapter's
start (the last one to the end of the video), and two chapters are the same when they
share the most time: each is paired at most once, the largest shared stretches first.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
L = TypeVar("L", bound=Hashable)

# Two chapters starting at the same moment share a point even when one of them covers no
# time at all (it starts where the next one starts): they still belong together.
_SAME_START = 1e-9


@dataclass(frozen=True)
class Span(Generic[K]):
    key: K
    start: float
    end: float


def chapter_spans(starts: Sequence[tuple[K, float]], video_end: float) -> list[Span[K]]:
    """Each chapter's stretch of the video, given each one's key and start."""
    ordered = sorted(starts, key=lambda item: item[1])
    spans: list[Span[K]] = []
    for index, (key, start) in enumerate(ordered):
        end = ordered[index + 1][1] if index + 1 < len(ordered) else max(video_end, start)
        spans.append(Span(key, start, max(end, start)))
    return spans


def shared_time(a: Span[K], b: Span[L]) -> float:
    shared = min(a.end, b.end) - max(a.start, b.start)
    if shared > 0:
        return shared
    return _SAME_START if a.start == b.start else 0.0


def pair_spans(left: Sequence[Span[K]], right: Sequence[Span[L]]) -> dict[K, L]:
    """Left keys to right keys, one to one, for the chapters that share time; the pairs
    sharing the most time are made first."""
    candidates = sorted(
        (
            (shared, index_a, index_b)
            for index_a, a in enumerate(left)
            for index_b, b in enumerate(right)
            if (shared := shared_time(a, b)) > 0
        ),
        key=lambda item: (-item[0], item[1], item[2]),
    )
    pairs: dict[K, L] = {}
    taken: set[int] = set()
    for _, index_a, index_b in candidates:
        key = left[index_a].key
        if key in pairs or index_b in taken:
            continue
        pairs[key] = right[index_b].key
        taken.add(index_b)
    return pairs
