"""One pass over the video: its scenes, a screenshot of each, and where the picture stands still.

Scene detection already decodes a few frames a second; taking each scene's screenshot
from those same frames saves a second pass that would seek and decode again. The pass
also remembers the stretches where the picture did not change at all between samples,
so a later screenshot asked for inside such a stretch can reuse one taken there.
"""

from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from reeldocs.media.errors import NOT_READABLE, MediaError
from reeldocs.media.frames import SCREENSHOT_WIDTH, WEBP_QUALITY, ScreenshotWriter, screenshot_name
from reeldocs.media.probe import probe
from reeldocs.media.progress import ProgressCallback
from reeldocs.media.reading import first_video_stream, open_media
from reeldocs.media.scenes import (
    DEFAULT_SETTINGS,
    CutDetector,
    SceneDetectionSettings,
    StopCheck,
    sample_frames,
    scenes_between,
)
from reeldocs.providers.base import Scene

# A scene's screenshot is taken this far into it, past any transition into it (a third of
# the way in for scenes shorter than three times this).
SCREENSHOT_LEAD_IN_SECONDS = 1.0
# Whether the picture stands still is judged on a grey thumbnail finer than the one cuts
# are found on, of about 8x8-pixel blocks (at most 160x90): there 12-pixel text typed on
# a 1080p screen moves its thumbnail pixel by 30 or more grey levels, a text cursor by
# about 18, while compression noise on a still 720p slide stays within 8 (within 22 at
# the very low quality of CRF 40, which then merely costs a few extra screenshots).
# All pixels within this many levels of the stretch's first sample: the same picture.
STILL_BLOCK_PIXELS = 8
STILL_THUMBNAIL_LARGEST = (160, 90)
STILL_PICTURE_LEVEL = 16
_TIME_TOLERANCE = 0.001


@dataclass(frozen=True)
class Shot:
    seconds: float  # the moment the picture shows
    path: Path


@dataclass
class StillPictures:
    """The screenshots taken so far and the stretches where the picture stood still."""

    shots: list[Shot]
    # [first, last] sample times of stretches whose samples all look like the first
    still: list[tuple[float, float]] = field(default_factory=list)

    def same_picture(self, a: float, b: float) -> bool:
        """Whether the picture at `a` is the one at `b`: both in one still stretch."""
        low, high = min(a, b), max(a, b)
        return any(
            first - _TIME_TOLERANCE <= low and high <= last + _TIME_TOLERANCE
            for first, last in self.still
        )

    def shot_showing(self, seconds: float) -> Shot | None:
        """A screenshot already taken that shows the picture on screen at `seconds`."""
        return next((s for s in self.shots if self.same_picture(s.seconds, seconds)), None)

    def save(self, path: Path) -> None:
        shots = [[shot.seconds, str(shot.path)] for shot in self.shots]
        path.write_text(json.dumps({"shots": shots, "still": self.still}))

    @classmethod
    def load(cls, path: Path) -> StillPictures | None:
        """What `save` wrote; None when it is missing or unreadable."""
        try:
            saved = json.loads(path.read_text())
            shots = [Shot(float(seconds), Path(name)) for seconds, name in saved["shots"]]
            still = [(float(first), float(last)) for first, last in saved["still"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return cls(shots=shots, still=still)


@dataclass
class VideoAnalysis:
    scenes: list[Scene]  # `screenshot` is the file name of each scene's shot
    stills: StillPictures  # its shots are the scenes', in the same order


def analyse_video(
    video_path: Path,
    out_dir: Path,
    on_progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
    settings: SceneDetectionSettings = DEFAULT_SETTINGS,
    width: int = SCREENSHOT_WIDTH,
    quality: int = WEBP_QUALITY,
) -> VideoAnalysis:
    """Scenes covering 0 to the end, each with a WebP screenshot saved in `out_dir`.

    Progress and stopping work as in `detect_scenes`. Raises MediaError for a file
    `probe` would refuse.
    """
    duration = probe(video_path).duration_seconds
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open_media(video_path) as container:
        stream = first_video_stream(container)
        if stream is None:
            raise MediaError(f"{NOT_READABLE}: it contains no video stream.")
        writer = ScreenshotWriter(stream, width, quality)
        fine_width, fine_height = _still_thumbnail_size(stream.width, stream.height, settings)
    detector = CutDetector(settings, duration)
    stills = _StillStretches()
    detail = VideoReformatter()
    # Encoding runs beside decoding: Pillow lets go of the GIL while it encodes.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="screenshots") as encoder:
        shooter = _SceneShooter(writer, out_dir, encoder)
        for sample in sample_frames(
            Path(video_path), duration, on_progress, should_stop, settings, full_quality=True
        ):
            cuts_before = len(detector.cuts)
            detector.add_sample(sample.seconds, sample.thumbnail)
            if len(detector.cuts) > cuts_before:
                shooter.scene_ends(detector.cuts[-1])
            shooter.offer(sample.seconds, sample.frame)
            fine = detail.reformat(
                sample.frame,
                width=fine_width,
                height=fine_height,
                format="gray",
                interpolation="AREA",
            )
            stills.add(sample.seconds, fine.to_ndarray())
        shooter.scene_ends(duration)
        shots = [future.result() for future in shooter.saved]
    scenes = [
        Scene(start=scene.start, end=scene.end, screenshot=shot.path.name)
        for scene, shot in zip(scenes_between(detector.cuts, duration), shots, strict=True)
    ]
    return VideoAnalysis(scenes, StillPictures(shots=shots, still=stills.finish()))


def _still_thumbnail_size(
    width: int, height: int, settings: SceneDetectionSettings
) -> tuple[int, int]:
    smallest_width, smallest_height = settings.thumbnail_size
    largest_width, largest_height = STILL_THUMBNAIL_LARGEST
    return (
        min(max(width // STILL_BLOCK_PIXELS, smallest_width), largest_width),
        min(max(height // STILL_BLOCK_PIXELS, smallest_height), largest_height),
    )


class _SceneShooter:
    """Keeps the sampled frames of the current scene's first moments; shoots one at its end.

    Which frame is chosen depends on the scene's length, known only at its end, and the
    candidates all lie within the lead-in, so a handful of frames is all that is kept.
    """

    def __init__(self, writer: ScreenshotWriter, out_dir: Path, encoder: ThreadPoolExecutor):
        self.writer = writer
        self.out_dir = out_dir
        self.encoder = encoder
        self.start = 0.0
        self.candidates: list[tuple[float, av.VideoFrame]] = []
        self.saved: list[Future[Shot]] = []

    def offer(self, seconds: float, frame: av.VideoFrame) -> None:
        if seconds <= self.start + SCREENSHOT_LEAD_IN_SECONDS + _TIME_TOLERANCE:
            self.candidates.append((seconds, frame))

    def scene_ends(self, end: float) -> None:
        if not self.candidates:
            raise MediaError(
                f"{NOT_READABLE}: no picture could be decoded, so the file is probably "
                "damaged. Please export or upload it again."
            )
        lead_in = min(SCREENSHOT_LEAD_IN_SECONDS, (end - self.start) / 3)
        target = min(self.start + lead_in, end)
        seconds, frame = min(self.candidates, key=lambda c: (abs(c[0] - target), c[0]))
        image = self.writer.displayed(frame)
        path = self.out_dir / screenshot_name(seconds)
        self.saved.append(
            self.encoder.submit(lambda: Shot(seconds, self.writer.save_image(image, path)))
        )
        self.start = end
        self.candidates = []


class _StillStretches:
    """Runs of samples that all look like the run's first one.

    Comparing with the first sample rather than the previous one keeps a slow fade, which
    moves every pixel a little at each sample, from passing for a still picture.
    """

    def __init__(self) -> None:
        self.stretches: list[tuple[float, float]] = []
        self._first: float | None = None
        self._anchor: np.ndarray | None = None
        self._last = 0.0

    def add(self, seconds: float, thumbnail: np.ndarray) -> None:
        current = thumbnail.astype(np.int16)
        if self._anchor is None or np.abs(current - self._anchor).max() > STILL_PICTURE_LEVEL:
            self._close()
            self._first, self._anchor = seconds, current
        self._last = seconds

    def finish(self) -> list[tuple[float, float]]:
        self._close()
        return self.stretches

    def _close(self) -> None:
        if self._first is not None and self._last > self._first:
            self.stretches.append((round(self._first, 3), round(self._last, 3)))
        self._first = None
