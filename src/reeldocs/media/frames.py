"""Screenshots: the picture shown at given moments, saved as WebP.

Times are visited in order. Between two nearby times the decoder simply runs forward;
it seeks only when a keyframe lies between where it is and where it must go, so many
screenshots cost about one pass over the parts of the video they fall in.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterable
from pathlib import Path

import av
from av.container import InputContainer
from av.video.reformatter import VideoReformatter
from av.video.stream import VideoStream
from PIL import Image

from reeldocs.media.errors import NOT_READABLE, MediaError
from reeldocs.media.reading import first_video_stream, open_media, timeline_origin

SCREENSHOT_WIDTH = 1280
WEBP_QUALITY = 80
# libwebp's effort, 0-6. At 2 a 720p slide encodes in ~28 ms instead of ~45 ms at
# Pillow's default 4, for a file ~5 % larger.
WEBP_METHOD = 2
# Without a keyframe index, decoding forward this far is cheaper than a seek that may
# land on a keyframe before where the decoder already is.
_DECODE_FORWARD_WITHOUT_INDEX_SECONDS = 3.0
# A frame stamped a hair after the asked time (rounding of time bases) still counts as at it.
_TIME_TOLERANCE = 0.001


def screenshot_name(seconds: float) -> str:
    """The file name for the screenshot at `seconds`: milliseconds, so retries reuse it."""
    return f"t{max(0, round(seconds * 1000)):09d}.webp"


def grab_frames(
    video_path: Path,
    times: Iterable[float],
    out_dir: Path,
    width: int = SCREENSHOT_WIDTH,
    quality: int = WEBP_QUALITY,
) -> dict[float, Path]:
    """Save the picture on screen at each time as `out_dir / screenshot_name(time)`.

    Pictures wider than `width` are scaled down to it (never up), keeping the shape a
    player shows, rotation and non-square pixels included. Times past the end give the
    last picture. Returns a path for every time asked; existing files are overwritten.
    """
    out_dir = Path(out_dir)
    wanted = sorted(set(times))
    if not wanted:
        return {}
    out_dir.mkdir(parents=True, exist_ok=True)
    saved: dict[str, Path] = {}
    result: dict[float, Path] = {}
    with open_media(video_path) as container:
        stream = first_video_stream(container)
        if stream is None:
            raise MediaError(f"{NOT_READABLE}: it contains no video stream.")
        stream.thread_type = "AUTO"
        seeker = _FrameSeeker(container, stream)
        writer = ScreenshotWriter(stream, width, quality)
        for seconds in wanted:
            name = screenshot_name(seconds)
            if name not in saved:
                saved[name] = writer.save(seeker.frame_at(max(0.0, seconds)), out_dir / name)
            result[seconds] = saved[name]
    return result


class _FrameSeeker:
    """Hands out the frame on screen at increasing times, seeking only when it pays."""

    def __init__(self, container: InputContainer, stream: VideoStream) -> None:
        self.container = container
        self.stream = stream
        self.origin = timeline_origin(container)
        self._frames: Generator[av.VideoFrame] | None = None
        self._current: av.VideoFrame | None = None  # last frame at or before the last time
        self._lookahead: av.VideoFrame | None = None  # first frame after it
        self._keyframe_index = stream.index_entries if len(stream.index_entries) else None

    def frame_at(self, seconds: float) -> av.VideoFrame:
        if self._frames is None or self._should_seek(seconds):
            self._restart_at(seconds)
        assert self._frames is not None
        while True:
            frame = self._lookahead or next(self._frames, None)
            self._lookahead = None
            if frame is None:
                break  # end of the video: the last frame stays on screen
            if self._seconds(frame) <= seconds + _TIME_TOLERANCE:
                self._current = frame
            else:
                self._lookahead = frame
                break
        shown = self._current or self._lookahead  # asked for a time before the first frame
        if shown is None:
            raise MediaError(
                f"{NOT_READABLE}: no picture could be decoded, so the file is probably damaged. "
                "Please export or upload it again."
            )
        return shown

    def _seconds(self, frame: av.VideoFrame) -> float:
        return (frame.time or 0.0) - self.origin

    def _position(self) -> float:
        return self._seconds(self._current) if self._current is not None else 0.0

    def _should_seek(self, seconds: float) -> bool:
        position = self._position()
        if seconds < position:
            return True
        keyframe = self._keyframe_before(seconds)
        if keyframe is not None:
            return keyframe > position + _TIME_TOLERANCE
        return seconds - position > _DECODE_FORWARD_WITHOUT_INDEX_SECONDS

    def _keyframe_before(self, seconds: float) -> float | None:
        if self._keyframe_index is None or self.stream.time_base is None:
            return None
        timestamp = int((seconds + self.origin) / self.stream.time_base)
        found = self._keyframe_index.search_timestamp(timestamp, backward=True)
        if found < 0:
            return None
        entry = self._keyframe_index[found]
        return float(entry.timestamp * self.stream.time_base) - self.origin

    def _restart_at(self, seconds: float) -> None:
        if self._frames is not None:
            self._frames.close()
        if seconds > 0 and self.stream.time_base is not None:
            target = int((seconds + self.origin) / self.stream.time_base)
            self.container.seek(target, stream=self.stream, backward=True)
        elif self._frames is not None:
            self.container.seek(0)
        self._current = self._lookahead = None
        self._frames = self._decode()

    def _decode(self) -> Generator[av.VideoFrame]:
        for packet in self.container.demux(self.stream):
            try:
                frames = packet.decode()
            except av.FFmpegError:
                continue  # one damaged packet should not cost every later screenshot
            for frame in frames:
                if isinstance(frame, av.VideoFrame) and frame.time is not None:
                    yield frame


class ScreenshotWriter:
    """Turns frames of one stream into WebP files showing what a player shows."""

    def __init__(
        self, stream: VideoStream, width: int = SCREENSHOT_WIDTH, quality: int = WEBP_QUALITY
    ) -> None:
        self.max_width = width
        self.quality = quality
        aspect = stream.sample_aspect_ratio
        self.pixel_aspect = float(aspect) if aspect else 1.0
        self.reformatter = VideoReformatter()

    def save(self, frame: av.VideoFrame, path: Path) -> Path:
        return self.save_image(self.displayed(frame), path)

    def save_image(self, image: Image.Image, path: Path) -> Path:
        """Encode and write; safe to call from another thread (Pillow lets go of the GIL)."""
        partial = path.with_name(path.name + ".partial")
        image.save(partial, format="WEBP", quality=self.quality, method=WEBP_METHOD)
        os.replace(partial, path)  # a reader never sees half a picture
        return path

    def displayed(self, frame: av.VideoFrame) -> Image.Image:
        rotation = frame.rotation % 360
        turned = rotation in (90, 270)
        shown_width = frame.width * self.pixel_aspect
        shown_height = float(frame.height)
        if turned:
            shown_width, shown_height = shown_height, shown_width
        scale = min(1.0, self.max_width / shown_width)
        out_width = max(2, round(shown_width * scale))
        out_height = max(2, round(shown_height * scale))
        if turned:
            out_width, out_height = out_height, out_width
        image = self.reformatter.reformat(
            frame, width=out_width, height=out_height, format="rgb24", interpolation="AREA"
        ).to_image()
        # PIL turns counter-clockwise, the direction FFmpeg's rotation is given in.
        return image.rotate(rotation, expand=True) if rotation else image
