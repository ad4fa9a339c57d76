"""When subtitle cues are on screen, given when their words are said.

Each cue is shown at least while its words are said, and lengthened into the silence around
them until it reads at 20 characters per second and lasts a second, then until it reads at
17: first into the silence after its speech, then up to half a second into the silence
before it, never closer than 80 ms (two frames) to its neighbours. Where the speech is too
fast for 20 even so, cues on screen back to back share the time between them so that they
read equally fast. Gaps under half a second are then closed down to 80 ms. No cue is on
screen for more than 7 seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MAX_CUE_SECONDS = 7.0
MIN_CUE_SECONDS = 1.0
TARGET_CPS = 17.0
MAX_CPS = 20.0
CUE_GAP_SECONDS = 0.08
MAX_LEAD_SECONDS = 0.5
# Gaps between cues shorter than this are closed down to CUE_GAP_SECONDS.
CLOSED_GAP_SECONDS = 0.5
# Only words with broken timings (several at the same instant) give cues this short.
MIN_VISIBLE_SECONDS = 0.2


@dataclass(frozen=True)
class SpokenSpan:
    """When a cue's words are said, and how many characters the cue shows."""

    start: float
    end: float
    chars: int


def cue_times(spans: Sequence[SpokenSpan]) -> list[tuple[float, float]]:
    """(start, end) on screen for cues said over `spans`, in order, in whole milliseconds.

    First the speech's own times, then lengthened into the silence around it until each cue
    meets 20 cps and a second, then 17 cps; the excess of speech too fast even so shared
    between neighbours; then small gaps closed.
    """
    if not spans:
        return []
    timeline = _Timeline(spans)
    chars = timeline.chars
    for needs in (
        [max(MIN_CUE_SECONDS, c / MAX_CPS) for c in chars],
        [max(MIN_CUE_SECONDS, c / TARGET_CPS) for c in chars],
    ):
        for k in range(len(chars)):
            timeline.lengthen(k, needs)
    for _ in range(3):  # each pass moves a boundary a little less
        for k in range(len(chars) - 1):
            timeline.share_excess(k)
    timeline.close_small_gaps()
    return _in_milliseconds(timeline.starts, timeline.ends)


class _Timeline:
    """Where each cue is on screen while its times are worked out, in seconds."""

    def __init__(self, spans: Sequence[SpokenSpan]) -> None:
        count = len(spans)
        self.count = count
        self.spoken_from = [span.start for span in spans]
        self.spoken_to = [span.end for span in spans]
        self.chars = [span.chars for span in spans]
        self.starts = self.spoken_from[:]
        self.ends = [
            min(
                max(min(self.spoken_to[k], self._next_speech(k) - CUE_GAP_SECONDS), start),
                start + MAX_CUE_SECONDS,
            )
            for k, start in enumerate(self.starts)
        ]
        # how early a cue may appear: half a second early, in silence only, never before 0
        self.earliest = [
            max(
                0.0,
                self.spoken_from[k] - MAX_LEAD_SECONDS,
                min(self.spoken_from[k], self.spoken_to[k - 1] + CUE_GAP_SECONDS) if k else 0.0,
            )
            for k in range(count)
        ]

    def _next_speech(self, k: int) -> float:
        return self.spoken_from[k + 1] if k + 1 < self.count else math.inf

    def _lowest_start(self, k: int) -> float:
        return max(self.earliest[k], self.ends[k - 1] + CUE_GAP_SECONDS if k else 0.0)

    def _duration(self, k: int) -> float:
        return self.ends[k] - self.starts[k]

    def lengthen(self, k: int, needs: list[float]) -> None:
        """Cue k on screen for needs[k] if the silence allows: after its speech first, then
        before it, leaving the next cue what it will need from the silence between them."""
        deficit = needs[k] - self._duration(k)
        if deficit <= 0:
            return
        limit = math.inf
        if k + 1 < self.count:
            # the next cue needs from this silence whatever its own following one cannot give
            after_next = self.starts[k + 2] - CUE_GAP_SECONDS if k + 2 < self.count else math.inf
            next_wants = needs[k + 1] - self._duration(k + 1)
            next_wants -= max(after_next - self.ends[k + 1], 0.0)
            reserve = min(max(next_wants, 0.0), self.starts[k + 1] - self.earliest[k + 1])
            limit = self.starts[k + 1] - CUE_GAP_SECONDS - reserve
        room = min(limit, self.starts[k] + MAX_CUE_SECONDS) - self.ends[k]
        grow = min(deficit, max(room, 0.0))
        self.ends[k] += grow
        deficit -= grow
        if deficit > 0:
            room = min(self.starts[k] - self._lowest_start(k), MAX_CUE_SECONDS - self._duration(k))
            self.starts[k] -= min(deficit, max(room, 0.0))

    def share_excess(self, k: int) -> None:
        """Cues k and k + 1, on screen back to back with one over 20 cps: both take all the
        silence they may, then the boundary between them moves so they read equally fast."""
        starts, ends, chars = self.starts, self.ends, self.chars
        if starts[k + 1] - ends[k] > CUE_GAP_SECONDS + 1e-9:
            return  # the silence between them is there for either to take
        speeds = [chars[i] / max(self._duration(i), 1e-9) for i in (k, k + 1)]
        if max(speeds) <= MAX_CPS:
            return
        starts[k] = min(starts[k], max(self._lowest_start(k), ends[k] - MAX_CUE_SECONDS))
        if k + 2 < self.count:
            latest = min(starts[k + 2] - CUE_GAP_SECONDS, starts[k + 1] + MAX_CUE_SECONDS)
            ends[k + 1] = max(ends[k + 1], latest)
        before, after = self._duration(k), self._duration(k + 1)
        later_end = ends[k + 1] - CUE_GAP_SECONDS
        lowest = max(
            self.earliest[k + 1] - CUE_GAP_SECONDS,
            starts[k] + min(before, MIN_CUE_SECONDS),
            later_end - MAX_CUE_SECONDS,
        )
        highest = min(
            self.spoken_from[k + 1] - CUE_GAP_SECONDS,
            later_end - min(after, MIN_CUE_SECONDS),
            starts[k] + MAX_CUE_SECONDS,
        )
        if lowest > highest:
            return
        even = (chars[k] * later_end + chars[k + 1] * starts[k]) / (chars[k] + chars[k + 1])
        ends[k] = min(max(even, lowest), highest)
        starts[k + 1] = ends[k] + CUE_GAP_SECONDS

    def close_small_gaps(self) -> None:
        """Gaps under half a second closed down to 80 ms, so the screen does not flicker."""
        for k in range(self.count - 1):
            closed = self.starts[k + 1] - CUE_GAP_SECONDS
            latest = min(self.ends[k] + CLOSED_GAP_SECONDS, self.starts[k] + MAX_CUE_SECONDS)
            if self.ends[k] < closed <= latest:
                self.ends[k] = closed


def _in_milliseconds(starts: list[float], ends: list[float]) -> list[tuple[float, float]]:
    """Times rounded to the millisecond the files hold, still apart and never too short."""
    gap = round(CUE_GAP_SECONDS * 1000)
    shortest = round(MIN_VISIBLE_SECONDS * 1000)
    longest = round(MAX_CUE_SECONDS * 1000)
    times: list[tuple[float, float]] = []
    previous_end: int | None = None
    for start_seconds, end_seconds in zip(starts, ends, strict=True):
        start = max(round(start_seconds * 1000), 0)
        if previous_end is not None:
            start = max(start, previous_end + gap)
        end = min(max(round(end_seconds * 1000), start + shortest), start + longest)
        times.append((start / 1000, end / 1000))
        previous_end = end
    return times
