"""Progress reports from long media passes, spaced by video time rather than wall time.

Spacing by video time makes the number of reports the same on a fast or a loaded machine:
about fifty per pass, never more often than every two seconds of video.
"""

from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[float, float], None]

_MOST_REPORTS_PER_PASS = 50
_SMALLEST_STEP_SECONDS = 2.0


class MediaProgress:
    """Calls `on_progress(done, total)` (seconds of video) as a pass moves through the video.

    Whatever the callback raises (such as `Cancelled`) propagates and ends the pass.
    """

    def __init__(self, on_progress: ProgressCallback | None, total_seconds: float) -> None:
        self.on_progress = on_progress
        self.total = max(0.0, total_seconds)
        self.step = max(_SMALLEST_STEP_SECONDS, self.total / _MOST_REPORTS_PER_PASS)
        self._next_report_at = self.step

    def reached(self, seconds: float) -> None:
        if self.on_progress is None or seconds < self._next_report_at:
            return
        self._next_report_at = seconds + self.step
        self.on_progress(min(seconds, self.total), self.total)

    def finished(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.total, self.total)
