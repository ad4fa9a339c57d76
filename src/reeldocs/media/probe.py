"""What a video file is, checked well enough that the rest of the pipeline can trust it.

`probe` opens the file, reads its streams and length, checks that the end of the file is
really there and decodes the first picture. On a valid file it takes a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import islice
from pathlib import Path

import av
from av.container import InputContainer
from av.video.stream import VideoStream

from reeldocs.media.errors import ACCEPTED_FORMATS, NOT_READABLE, MediaError
from reeldocs.media.reading import (
    first_video_stream,
    looks_like_text_file,
    open_media,
    timeline_origin,
)

# Demuxer names FFmpeg reports for the containers Reeldocs accepts. Anything else (images,
# raw streams, text FFmpeg happily renders as "ANSI art") is refused by name.
_MP4_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"
_MATROSKA_FAMILY = "matroska,webm"
_OTHER_CONTAINERS = {"avi": ("avi", "video/x-msvideo")}
_WEBM_CODECS = {"vp8", "vp9", "av1", "opus", "vorbis"}

# Decoding the first picture may need a few packets (B-frames, frame threading); a file
# whose first this-many video packets give no picture is treated as damaged.
_PACKETS_BEFORE_GIVING_UP = 90
# Containers whose header may lack the length: it is then measured by reading every packet.
_SCANNABLE_FOR_DURATION = {_MATROSKA_FAMILY}
_PICTURE_FORMATS = {"image2", "gif", "apng", "webp"}


@dataclass(frozen=True)
class VideoProbe:
    duration_seconds: float
    size_bytes: int
    container: str  # short name: mp4, mov, 3gp, webm, mkv, avi
    mime: str  # video/mp4, video/quicktime, video/webm, video/x-matroska, ...
    video_codec: str  # FFmpeg codec name: h264, hevc, vp9, av1, ...
    audio_codec: str | None
    width: int  # as displayed, i.e. after the rotation the file asks for
    height: int
    fps: float
    rotation: int  # degrees the picture is turned when shown (phone videos)

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


def probe(path: Path) -> VideoProbe:
    """Describe a video file, or raise MediaError with a sentence saying why it cannot be used."""
    path = Path(path)
    with open_media(path) as container:
        video = first_video_stream(container)
        if video is None:
            raise MediaError(_no_video_message(container))
        _refuse_pictures_and_text(container, path)
        _require_decoder(video)
        duration = _duration(container, video)
        container_name, mime = _container_and_mime(container, video)
        _check_end_is_present(container, video, duration)
        rotation = _decode_first_picture(container, video)
        audio = container.streams.audio[0] if container.streams.audio else None
        width, height = video.codec_context.width, video.codec_context.height
        if rotation % 180:
            width, height = height, width
        return VideoProbe(
            duration_seconds=duration,
            size_bytes=path.stat().st_size,
            container=container_name,
            mime=mime,
            video_codec=video.codec_context.name,
            audio_codec=audio.codec_context.name if audio is not None else None,
            width=width,
            height=height,
            fps=_frames_per_second(video),
            rotation=rotation,
        )


def _no_video_message(container: InputContainer) -> str:
    if container.streams.audio:
        return (
            f"{NOT_READABLE}: it contains no video stream, only sound. "
            "Please upload the screen or camera recording itself."
        )
    return f"{NOT_READABLE}: it contains no video stream."


def _refuse_pictures_and_text(container: InputContainer, path: Path) -> None:
    format_name = container.format.name
    if format_name in _PICTURE_FORMATS or format_name.endswith("_pipe"):
        raise MediaError(f"{NOT_READABLE}: it is a picture, not a video. {ACCEPTED_FORMATS}.")
    if looks_like_text_file(path):
        # FFmpeg opens .txt files as "ANSI art" videos; nobody means that.
        raise MediaError(f"{NOT_READABLE}: it contains text, not video. {ACCEPTED_FORMATS}.")


def _require_decoder(video: VideoStream) -> None:
    # PyAV leaves codec_context unset when the bundled FFmpeg has no decoder for the codec.
    if video.codec_context is None or not video.codec_context.is_decoder:
        raise MediaError(
            f"{NOT_READABLE}: its video is in a format Reeldocs cannot decode. "
            f"{ACCEPTED_FORMATS} in H.264, HEVC, VP9 or AV1."
        )


def _duration(container: InputContainer, video: VideoStream) -> float:
    seconds: float | None = None
    if video.duration is not None and video.time_base is not None:
        seconds = float(video.duration * video.time_base)
    elif container.duration is not None:
        seconds = container.duration / av.time_base
    elif container.format.name in _SCANNABLE_FOR_DURATION:
        # Browser recordings (MediaRecorder WebM) never write their length in the header.
        seconds = _duration_from_packets(container, video)
    if seconds is None or seconds <= 0:
        raise MediaError(
            f"{NOT_READABLE}: its length cannot be determined, as happens with raw streams "
            f"and damaged recordings. {ACCEPTED_FORMATS} exported from your editor or recorder."
        )
    return seconds


def _duration_from_packets(container: InputContainer, video: VideoStream) -> float | None:
    end: int | None = None
    try:
        for packet in container.demux(video):
            if packet.pts is not None:
                packet_end = packet.pts + (packet.duration or 0)
                end = packet_end if end is None else max(end, packet_end)
    except av.FFmpegError:
        pass  # a damaged tail: keep what was measured so far
    container.seek(0)
    if end is None or video.time_base is None:
        return None
    start = video.start_time or 0
    return float((end - start) * video.time_base)


def _container_and_mime(container: InputContainer, video: VideoStream) -> tuple[str, str]:
    format_name = container.format.name
    if format_name == _MP4_FAMILY:
        brand = container.metadata.get("major_brand", "").strip()
        if brand == "qt":
            return "mov", "video/quicktime"
        if brand.startswith("3g"):
            return "3gp", "video/3gpp"
        return "mp4", "video/mp4"
    if format_name == _MATROSKA_FAMILY:
        codecs = {stream.codec_context.name for stream in container.streams if stream.codec_context}
        if codecs <= _WEBM_CODECS:
            return "webm", "video/webm"
        return "mkv", "video/x-matroska"
    if format_name in _OTHER_CONTAINERS:
        return _OTHER_CONTAINERS[format_name]
    raise MediaError(
        f"{NOT_READABLE}: it is {_article(container.format.long_name)} file, which Reeldocs "
        f"does not accept. {ACCEPTED_FORMATS}."
    )


def _article(description: str) -> str:
    description = description or "an unknown kind of"
    return f"an {description}" if description[0].lower() in "aeiou" else f"a {description}"


def _check_end_is_present(container: InputContainer, video: VideoStream, duration: float) -> None:
    """A file cut short after its index (MP4 with the index first) still opens: look at its end."""
    if video.time_base is None:
        return
    near_end = max(0.0, duration - 1.0) + timeline_origin(container)
    try:
        container.seek(int(near_end / video.time_base), stream=video, backward=True)
        found_packet = any(packet.size for packet in islice(container.demux(video), 3))
    except av.FFmpegError:
        found_packet = False
    if not found_packet:
        raise MediaError(
            f"{NOT_READABLE}: the file ends early, as when an upload is cut short. "
            "Please upload the complete file again."
        )
    container.seek(0)


def _decode_first_picture(container: InputContainer, video: VideoStream) -> int:
    """Decode until one picture comes out and return its rotation; MediaError if none does."""
    try:
        for index, packet in enumerate(container.demux(video)):
            if index >= _PACKETS_BEFORE_GIVING_UP:
                break
            try:
                frames = packet.decode()
            except av.FFmpegError:
                continue  # damaged packet: a later one may still decode
            for frame in frames:
                if isinstance(frame, av.VideoFrame):
                    return frame.rotation
    except av.FFmpegError:
        pass
    raise MediaError(
        f"{NOT_READABLE}: its first pictures could not be decoded, so the file is probably "
        "damaged. Please export or upload it again."
    )


def _frames_per_second(video: VideoStream) -> float:
    rate: Fraction | None = video.average_rate or video.guessed_rate or video.base_rate
    return float(rate) if rate else 0.0
