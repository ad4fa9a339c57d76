"""`[video:MM:SS]` references: the marks in article Markdown that point at a moment of the video.

Under an hour a reference is `[video:MM:SS]` (minutes zero-padded to two digits); from
an hour on it is `[video:H:MM:SS]`. Parsing is lenient about the minutes (`[video:75:10]`
is read as 75 minutes 10 seconds) because translators and people edit these by hand, but
seconds must always be two digits below 60.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

VIDEO_REFERENCE_PATTERN = re.compile(
    r"\[video:(?:(?P<hours>\d{1,3}):(?=\d{2}:))?(?P<minutes>\d{1,3}):(?P<seconds>[0-5]\d)\]"
)

# Fenced blocks and inline code spans, so that references shown as examples inside code
# are left alone when references are turned into links.
_CODE_PATTERN = re.compile(
    r"(?P<fence>^[ ]{0,3}(?P<marker>`{3,}|~{3,})[^\n]*\n(?:.*?\n)??[ ]{0,3}(?P=marker)[`~]*[ \t]*$)"
    r"|(?P<span>(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`))",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class VideoReference:
    """One reference found in Markdown: where it is and which second it points at."""

    text: str  # exactly as written, e.g. "[video:01:23]"
    seconds: int
    start: int  # offsets of `text` in the Markdown it was found in
    end: int


def format_timestamp(seconds: float) -> str:
    """`MM:SS` below an hour, `H:MM:SS` from an hour on; fractions are dropped, never rounded up,
    so a reference never points past the moment it describes."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"A video moment must be a non-negative number of seconds, not {seconds}.")
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"


def display_moment(seconds: float) -> str:
    """A moment as pages show it, the way video players do: `M:SS`, `H:MM:SS` past an hour
    (references in Markdown keep their `MM:SS`)."""
    total = max(0, int(seconds)) if math.isfinite(seconds) else 0
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def video_reference(seconds: float) -> str:
    """The reference to write into Markdown for the moment `seconds`."""
    return f"[video:{format_timestamp(seconds)}]"


def parse_timestamp(timestamp: str) -> int:
    """Seconds for `MM:SS` or `H:MM:SS` (what sits between `[video:` and `]`)."""
    match = VIDEO_REFERENCE_PATTERN.fullmatch(f"[video:{timestamp.strip()}]")
    if match is None:
        raise ValueError(f"'{timestamp}' is not a video time; write it as MM:SS or H:MM:SS.")
    return _match_seconds(match)


def reference_seconds(reference: str) -> int:
    """Seconds that one reference such as `[video:1:02:03]` points at."""
    match = VIDEO_REFERENCE_PATTERN.fullmatch(reference.strip())
    if match is None:
        raise ValueError(f"'{reference}' is not a video reference such as [video:01:23].")
    return _match_seconds(match)


def find_video_references(markdown: str) -> list[VideoReference]:
    """Every reference in `markdown`, in order of appearance (code included)."""
    return [
        VideoReference(m.group(0), _match_seconds(m), m.start(), m.end())
        for m in VIDEO_REFERENCE_PATTERN.finditer(markdown)
    ]


def replace_video_references(markdown: str, replacement: Callable[[VideoReference], str]) -> str:
    """Replace each reference outside code with `replacement(reference)`.

    Pages use this to turn references into links that seek the player; references inside
    fenced blocks or inline code are examples, not links, and stay as they are.
    """
    pieces: list[str] = []
    position = 0
    for code in _CODE_PATTERN.finditer(markdown):
        pieces.append(_replace_in_prose(markdown, position, code.start(), replacement))
        pieces.append(code.group(0))
        position = code.end()
    pieces.append(_replace_in_prose(markdown, position, len(markdown), replacement))
    return "".join(pieces)


def _replace_in_prose(
    markdown: str, start: int, end: int, replacement: Callable[[VideoReference], str]
) -> str:
    pieces: list[str] = []
    position = start
    for m in VIDEO_REFERENCE_PATTERN.finditer(markdown, start, end):
        pieces.append(markdown[position : m.start()])
        pieces.append(
            replacement(VideoReference(m.group(0), _match_seconds(m), m.start(), m.end()))
        )
        position = m.end()
    pieces.append(markdown[position:end])
    return "".join(pieces)


def _match_seconds(match: re.Match[str]) -> int:
    hours = int(match.group("hours") or 0)
    return hours * 3600 + int(match.group("minutes")) * 60 + int(match.group("seconds"))
