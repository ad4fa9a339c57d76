"""Scene cuts: where the picture changes for good, e.g. the next slide or another screen.

Frames are sampled a few times a second, shrunk to a small grey picture, and compared
with the previous sample: a cut is where more than a small share of those pixels changed
by a clear amount. That catches slides where only the text changes (the hard case for
detectors tuned to film, which compare average colour), while a fade moves each pixel by
only a little between samples and so never counts. Areas that keep changing (scrolling,
a playing clip, a webcam bubble) count only where they start to change, so they give one
cut where they start rather than one per sample, and do not hide slide changes elsewhere.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from reeldocs.media.errors import NOT_READABLE, MediaError
from reeldocs.media.probe import probe
from reeldocs.media.progress import MediaProgress, ProgressCallback
from reeldocs.media.reading import (
    first_video_stream,
    open_media,
    timeline_origin,
    use_fast_decoding,
)
from reeldocs.providers.base import Cancelled, Scene

StopCheck = Callable[[], bool]


@dataclass(frozen=True)
class SceneDetectionSettings:
    samples_per_second: float = 6.0
    thumbnail_size: tuple[int, int] = (64, 36)
    # A pixel "changed" when its grey level moved by more than this (0-255).
    pixel_change_threshold: int = 25
    # A cut when more than this share of the thumbnail's pixels changed, not counting
    # pixels that were already changing during the `motion_memory_seconds` before.
    changed_share_for_cut: float = 0.01
    motion_memory_seconds: float = 1.0
    minimum_scene_seconds: float = 1.0
    # FFmpeg threading: "AUTO" uses every core; "NONE" decodes on one thread and wastes no
    # CPU on coordination (about a tenth less here) when other work keeps the cores busy.
    decoder_thread_type: str = "AUTO"


DEFAULT_SETTINGS = SceneDetectionSettings()
_ASK_STOP_EVERY = 0.1  # seconds of wall-clock time


def detect_scenes(
    video_path: Path,
    on_progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
    settings: SceneDetectionSettings = DEFAULT_SETTINGS,
) -> list[Scene]:
    """Split the video into scenes covering 0 to its end, in order, without screenshots.

    `on_progress(done, total)` gets seconds of video now and then. `should_stop()` is asked
    at the first sample and then at most ten times a second (it may well query the
    database); `Cancelled` is raised when it returns True. Raises MediaError for a file
    `probe` would refuse.
    """
    duration = probe(video_path).duration_seconds
    detector = CutDetector(settings, duration)
    for sample in sample_frames(Path(video_path), duration, on_progress, should_stop, settings):
        detector.add_sample(sample.seconds, sample.thumbnail)
    return scenes_between(detector.cuts, duration)


def scenes_between(cuts: list[float], duration: float) -> list[Scene]:
    bounds = [0.0, *cuts, duration]
    return [Scene(start=start, end=end) for start, end in zip(bounds, bounds[1:], strict=False)]


@dataclass(frozen=True)
class Sample:
    seconds: float  # from the start of the video, as players show it
    frame: av.VideoFrame
    thumbnail: np.ndarray  # small grey picture, settings.thumbnail_size


def sample_frames(
    video_path: Path,
    duration: float,
    on_progress: ProgressCallback | None,
    should_stop: StopCheck | None,
    settings: SceneDetectionSettings = DEFAULT_SETTINGS,
    *,
    full_quality: bool = False,
) -> Iterator[Sample]:
    """A few frames a second (settings.samples_per_second), in order, with their thumbnails.

    The samples are the first decoded frames at or after the points of a fixed grid
    (k / samples_per_second): whole seconds are on it, and they are the moments
    `[video:MM:SS]` references can name. `full_quality` keeps FFmpeg's deblocking filter,
    for frames that become screenshots; without it the frames only serve analysis.
    """
    rate = settings.samples_per_second
    width, height = settings.thumbnail_size
    with open_media(video_path) as container:
        stream = first_video_stream(container)
        if stream is None:
            raise MediaError(f"{NOT_READABLE}: it contains no video stream.")
        use_fast_decoding(stream, settings.decoder_thread_type, deblock=full_quality)
        # One reformatter for the whole video: creating its scaler per frame costs milliseconds.
        shrinker = VideoReformatter()
        origin = timeline_origin(container)
        next_sample_at = 0.0
        progress = MediaProgress(on_progress, duration)
        stop_asked_at = -math.inf
        for frame in _decoded_frames(container, stream):
            if frame.time is None:
                continue
            seconds = frame.time - origin
            if seconds + 1e-6 < next_sample_at:
                continue
            next_sample_at = (math.floor(seconds * rate + 1e-6) + 1) / rate
            thumbnail = shrinker.reformat(
                frame, width=width, height=height, format="gray", interpolation="AREA"
            ).to_ndarray()
            yield Sample(seconds, frame, thumbnail)
            if should_stop is not None and time.monotonic() - stop_asked_at >= _ASK_STOP_EVERY:
                stop_asked_at = time.monotonic()
                if should_stop():
                    raise Cancelled("Scene detection was stopped.")
            progress.reached(seconds)
    progress.finished()


def _decoded_frames(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> Iterator[av.VideoFrame]:
    """Frames in order; a damaged packet further in is skipped rather than failing the video."""
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.FFmpegError:
            continue
        for frame in frames:
            if isinstance(frame, av.VideoFrame):
                yield frame


class CutDetector:
    """Compares each sample with the one before; remembers where the picture was moving."""

    def __init__(self, settings: SceneDetectionSettings, duration: float) -> None:
        self.settings = settings
        self.duration = duration
        self.cuts: list[float] = []
        self._previous: np.ndarray | None = None
        # What changed between recent samples, newest last, about a second's worth.
        self._recent_changes: deque[np.ndarray] = deque(
            maxlen=max(1, round(settings.samples_per_second * settings.motion_memory_seconds))
        )

    def add_sample(self, seconds: float, thumbnail: np.ndarray) -> None:
        current = thumbnail.astype(np.int16)
        previous, self._previous = self._previous, current
        if previous is None:
            return
        changed = np.abs(current - previous) > self.settings.pixel_change_threshold
        # A scroll, a playing clip, typing or a webcam bubble keep changing the same area
        # sample after sample: pixels in or next to an area that moved lately do not count.
        newly_changed = changed
        if self._recent_changes:
            newly_changed = changed & ~_grow(np.logical_or.reduce(self._recent_changes))
        self._recent_changes.append(changed)
        share = np.count_nonzero(newly_changed) / newly_changed.size
        if share > self.settings.changed_share_for_cut and self._far_enough(seconds):
            self.cuts.append(round(seconds, 3))

    def _far_enough(self, seconds: float) -> bool:
        last_boundary = self.cuts[-1] if self.cuts else 0.0
        minimum = self.settings.minimum_scene_seconds
        return seconds - last_boundary >= minimum and self.duration - seconds >= minimum


def _grow(mask: np.ndarray) -> np.ndarray:
    """The mask widened by one pixel in each direction."""
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]
    grown[:, 1:] |= mask[:, :-1]
    grown[:, :-1] |= mask[:, 1:]
    return grown
