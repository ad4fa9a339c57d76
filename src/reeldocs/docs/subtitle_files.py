"""Subtitle cues and the WebVTT and SRT files they are written to and read back from."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

_VTT_TIME = r"(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})"
_SRT_TIME = r"(\d{2,}):([0-5]\d):([0-5]\d),(\d{3})"


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str  # lines separated by "\n"


def to_webvtt(cues: Sequence[Cue]) -> str:
    blocks = []
    for number, cue in enumerate(cues, start=1):
        text = "\n".join(html.escape(line, quote=False) for line in _cue_lines(cue.text))
        blocks.append(
            f"{number}\n{_timestamp(cue.start, '.')} --> {_timestamp(cue.end, '.')}\n{text}\n"
        )
    return "WEBVTT\n\n" + "\n".join(blocks)


def to_srt(cues: Sequence[Cue]) -> str:
    blocks = []
    for number, cue in enumerate(cues, start=1):
        text = "\n".join(_cue_lines(cue.text))
        blocks.append(
            f"{number}\n{_timestamp(cue.start, ',')} --> {_timestamp(cue.end, ',')}\n{text}\n"
        )
    return "\n".join(blocks)


def parse_webvtt(document: str) -> list[Cue]:
    """Cues of a WebVTT file as `to_webvtt` writes them; ValueError when it is malformed."""
    document = document.replace("\r\n", "\n")
    if not re.match(r"^WEBVTT(?:[ \t][^\n]*)?\n", document):
        raise ValueError("A WebVTT file must start with a WEBVTT line.")
    blocks = [b for b in document.split("\n\n")[1:] if b.strip()]
    return [_parse_block(block, _VTT_TIME, vtt=True) for block in blocks]


def parse_srt(document: str) -> list[Cue]:
    """Cues of an SRT file, checking that they are numbered 1, 2, 3…; ValueError otherwise."""
    document = document.replace("\r\n", "\n")
    blocks = [b for b in document.split("\n\n") if b.strip()]
    cues: list[Cue] = []
    for number, block in enumerate(blocks, start=1):
        first, _, rest = block.partition("\n")
        if first.strip() != str(number):
            raise ValueError(f"SRT cue {number} is numbered {first.strip()!r}.")
        cues.append(_parse_block(rest, _SRT_TIME, vtt=False))
    return cues


def _cue_lines(text: str) -> list[str]:
    # a blank line would end the cue early in both formats
    return [line.strip() for line in text.splitlines() if line.strip()] or ["…"]


def _timestamp(seconds: float, separator: str) -> str:
    milliseconds = max(0, round(seconds * 1000))
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _parse_block(block: str, time_pattern: str, *, vtt: bool) -> Cue:
    lines = block.strip("\n").split("\n")
    if vtt and "-->" not in lines[0]:
        lines = lines[1:]  # an optional cue identifier
    match = re.fullmatch(rf"{time_pattern} --> {time_pattern}", lines[0].strip() if lines else "")
    if match is None:
        raise ValueError(f"Cue timing line {lines[0] if lines else ''!r} is not valid.")
    parts = [int(part) for part in match.groups()]
    # whole milliseconds first, so 5.56 reads back as the same float that was written
    start = ((parts[0] * 3600 + parts[1] * 60 + parts[2]) * 1000 + parts[3]) / 1000
    end = ((parts[4] * 3600 + parts[5] * 60 + parts[6]) * 1000 + parts[7]) / 1000
    text_lines = lines[1:]
    if not text_lines or not all(line.strip() for line in text_lines):
        raise ValueError(f"The cue at {lines[0].strip()} has no text.")
    text = "\n".join(html.unescape(line) if vtt else line for line in text_lines)
    return Cue(start, end, text)
