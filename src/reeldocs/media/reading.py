"""Opening media files with PyAV: the plumbing that probe, audio, scenes and frames share."""

from __future__ import annotations

from pathlib import Path

import av
from av.container import InputContainer
from av.stream import Disposition
from av.video.stream import VideoStream

from reeldocs.media.errors import ACCEPTED_FORMATS, NOT_READABLE, MediaError

# How many leading bytes we look at to tell text and cut-short MP4 files apart.
_SNIFF_BYTES = 4096


def open_media(path: Path) -> InputContainer:
    """Open a file for reading, or raise MediaError saying why it is not a readable video."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise MediaError(
            "The video file could not be found in storage; please upload it again."
        ) from None
    if size == 0:
        raise MediaError("This file is empty: no data arrived. Please upload the video again.")
    try:
        # Tags are text a file claims to be: bytes that are no UTF-8 must not stop the
        # reading (random bytes pass for a lyrics file whose tags are garbage).
        return av.open(str(path), "r", metadata_errors="replace")
    except av.FFmpegError as error:
        raise MediaError(_why_unopenable(path)) from error


def _why_unopenable(path: Path) -> str:
    with path.open("rb") as file:
        head = file.read(_SNIFF_BYTES)
    if head[4:8] == b"ftyp":
        return (
            f"{NOT_READABLE}: it starts like an MP4 or MOV video but is incomplete or damaged, "
            "as when an upload is cut short. Please upload the complete file again."
        )
    if _looks_like_text(head):
        return f"{NOT_READABLE}: it contains text, not video. {ACCEPTED_FORMATS}."
    return (
        f"{NOT_READABLE}: its format was not recognised, or the file is damaged. "
        f"{ACCEPTED_FORMATS}."
    )


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # The sniffed block may end inside a multi-byte character.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    printable = sum(char.isprintable() or char in "\r\n\t" for char in text)
    return printable >= 0.95 * max(1, len(text))


def looks_like_text_file(path: Path) -> bool:
    with Path(path).open("rb") as file:
        return _looks_like_text(file.read(_SNIFF_BYTES))


def first_video_stream(container: InputContainer) -> VideoStream | None:
    """The first real video stream: cover art attached to audio files does not count."""
    for stream in container.streams.video:
        if not stream.disposition & Disposition.attached_pic:
            return stream
    return None


def timeline_origin(container: InputContainer) -> float:
    """Seconds to subtract from frame times so the video starts at 0, as players show it.

    MP4 and WebM start at 0 already; MPEG-TS and some recorders start later. A negative
    start (audio encoder priming) is left alone: players still show the first frame at 0.
    """
    start = container.start_time
    if start is None or start <= 0:
        return 0.0
    return start / av.time_base


def use_fast_decoding(
    stream: VideoStream, thread_type: str = "AUTO", deblock: bool = False
) -> None:
    """Decode for sampling a few frames a second: skip what those samples do not need.

    Frames no other frame refers to (most B-frames) are not decoded at all: they are a
    third to a half of the work. The deblocking filter only smooths block edges, far below
    the size analysis looks at; `deblock` keeps it for frames that become screenshots
    (it costs about a tenth more time).
    """
    stream.thread_type = thread_type
    if not deblock:
        stream.codec_context.options = {"skip_loop_filter": "all"}
    stream.codec_context.skip_frame = "NONREF"
