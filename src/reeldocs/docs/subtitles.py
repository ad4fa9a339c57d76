"""Subtitle cues from timed speech, their translation, and WebVTT/SRT files.

Cues follow common subtitling guidance: at most 7 seconds on screen, at most two lines of
42 characters and 70 characters in all, at least about a second when the next cue leaves
room, and never two cues on screen at once. Translated cues keep the source timings
exactly, so every language's track lines up with the same moments of the video.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from reeldocs.providers.base import Segment, Word

MAX_CUE_SECONDS = 7.0
MIN_CUE_SECONDS = 1.0
MAX_LINE_CHARS = 42
MAX_CUE_LINES = 2
MAX_CUE_CHARS = 70
# A pause this long starts a new cue: text should not stay on screen over silence.
PAUSE_SECONDS = 1.0
# Below this a cue cannot be read at all; it is merged into its neighbour instead.
MIN_VISIBLE_SECONDS = 0.2

# What recognisers put in transcripts besides words (pocketsphinx: <sil>, [NOISE], the(2)).
_ASR_MARKER = re.compile(r"^(?:<[^>]*>|\[[^\]]*\]|\+\+[^+]*\+\+)$")
_ALTERNATE_PRONUNCIATION = re.compile(r"\(\d+\)$")
FILLER_WORDS = frozenset({"uh", "um", "uhm", "umm", "er", "erm", "ah", "hmm", "mm", "mhm"})
_SENTENCE_END = re.compile(r"[.!?…]['\")\]]*$")
_CLAUSE_END = re.compile(r"[.!?…,;:]['\")\]]*$")
# Words a line reads well starting with, so a cue may end just before them.
_CONJUNCTIONS = frozenset("and but or so then because when while which that who if".split())
_FUNCTION_WORDS = frozenset(
    "to with for from in on at of by the a an this these those your our their its".split()
)
_VTT_TIME = r"(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})"
_SRT_TIME = r"(\d{2,}):([0-5]\d):([0-5]\d),(\d{3})"


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str  # lines separated by "\n"


def readable_word(token: str) -> str:
    """`token` without recogniser markup; "" for silence, noise and fillers such as "um"."""
    token = token.strip()
    if not token or _ASR_MARKER.match(token):
        return ""
    token = _ALTERNATE_PRONUNCIATION.sub("", token)
    if token.strip(".,!?;:").casefold() in FILLER_WORDS:
        return ""
    return token


def build_source_cues(segments: Sequence[Segment]) -> list[Cue]:
    """Cues for the spoken words, timed by word timings when the recogniser gave them."""
    words: list[Word] = []
    for segment in sorted(segments, key=lambda s: (s.start_time, s.end_time)):
        words.extend(_timed_words(segment))
    words = _monotonic(_split_long_words(words))

    groups: list[list[Word]] = []
    current: list[Word] = []
    for word in words:
        reason = _cue_break(current, word) if current else None
        if reason in ("full", "time"):
            cut = _natural_cut(current)
            groups.append(current[:cut])
            current = current[cut:]
            reason = _cue_break(current, word) if current else None
        if reason is not None:
            groups.append(current)
            current = []
        current.append(word)
    if current:
        groups.append(current)
    return _timed_cues(groups)


def wrap_cue_text(
    text: str, max_lines: int = MAX_CUE_LINES, max_line_length: int = MAX_LINE_CHARS
) -> str | None:
    """`text` on the fewest lines (up to `max_lines`) of at most `max_line_length` characters,
    lines balanced in length; None when it does not fit."""
    words = text.split()
    if not words:
        return ""
    if any(len(word) > max_line_length for word in words):
        return None
    if sum(len(word) for word in words) + len(words) - 1 > max_lines * max_line_length:
        return None  # cannot fit whatever the breaks
    for line_count in range(1, min(max_lines, len(words)) + 1):
        lines = _balanced_lines(words, line_count)
        if max(len(line) for line in lines) <= max_line_length:
            return "\n".join(lines)
    return None


def translate_cues(cues: Sequence[Cue], translated_texts: Sequence[str]) -> list[Cue]:
    """Cues with the translated texts and exactly the source timings.

    Two lines of 42 characters where the translation fits, else three; a translation too
    long even for that is spread over three balanced lines rather than cut.
    """
    if len(cues) != len(translated_texts):
        raise ValueError(
            f"{len(translated_texts)} translated subtitle lines were given for {len(cues)} "
            "cues; every cue needs exactly one."
        )
    translated: list[Cue] = []
    for cue, text in zip(cues, translated_texts, strict=True):
        flat = " ".join(text.split()) or " ".join(cue.text.split())
        wrapped = wrap_cue_text(flat, MAX_CUE_LINES) or wrap_cue_text(flat, 3)
        if wrapped is None:
            words = flat.split()
            wrapped = "\n".join(_balanced_lines(words, min(3, len(words))))
        translated.append(Cue(cue.start, cue.end, wrapped))
    return translated


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


def _timed_words(segment: Segment) -> list[Word]:
    if segment.words:
        cleaned = [Word(readable_word(w.text), w.start, w.end) for w in segment.words]
        return [w for w in cleaned if w.text]
    tokens = [readable_word(token) for token in segment.spoken_content.split()]
    tokens = [token for token in tokens if token]
    if not tokens:
        return []
    # no word timings: each word gets an equal share, so a cue's time follows its word count
    share = max(segment.end_time - segment.start_time, 0.0) / len(tokens)
    return [
        Word(token, segment.start_time + i * share, segment.start_time + (i + 1) * share)
        for i, token in enumerate(tokens)
    ]


def _split_long_words(words: list[Word]) -> list[Word]:
    """Words longer than a line (spoken URLs, glued tokens) become line-sized pieces."""
    result: list[Word] = []
    for word in words:
        if len(word.text) <= MAX_LINE_CHARS:
            result.append(word)
            continue
        pieces = [
            word.text[i : i + MAX_LINE_CHARS] for i in range(0, len(word.text), MAX_LINE_CHARS)
        ]
        share = max(word.end - word.start, 0.0) / len(pieces)
        result.extend(
            Word(piece, word.start + i * share, word.start + (i + 1) * share)
            for i, piece in enumerate(pieces)
        )
    return result


def _monotonic(words: list[Word]) -> list[Word]:
    """Word times that never go backwards (recognisers and merged segments can overlap)."""
    result: list[Word] = []
    floor = 0.0
    for word in words:
        start = max(word.start, floor) if math.isfinite(word.start) else floor
        end = max(word.end, start) if math.isfinite(word.end) else start
        result.append(Word(word.text, start, end))
        floor = start
    return result


def _cue_break(current: list[Word], word: Word) -> str | None:
    """Why `word` cannot join the cue being built: "pause", "time", "full", "sentence"."""
    if word.start - current[-1].end > PAUSE_SECONDS:
        return "pause"
    if word.end - current[0].start > MAX_CUE_SECONDS:
        return "time"
    text = " ".join(w.text for w in current)
    candidate = f"{text} {word.text}"
    if len(candidate) > MAX_CUE_CHARS or wrap_cue_text(candidate) is None:
        return "full"
    # a finished sentence ends the cue once it holds enough to read
    if _SENTENCE_END.search(current[-1].text) is not None and len(text) >= 25:
        return "sentence"
    return None


def _natural_cut(current: list[Word]) -> int:
    """Where a full cue reads best cut: after punctuation or before a word such as "and" or
    "the", past its first third; else right at the end. The rest opens the next cue."""
    best, best_score = len(current), 0
    for cut in range(max(1, (len(current) + 2) // 3), len(current)):
        following = current[cut].text.casefold()
        if _CLAUSE_END.search(current[cut - 1].text):
            score = 3
        elif following in _CONJUNCTIONS:
            score = 2
        elif following in _FUNCTION_WORDS:
            score = 1
        else:
            continue
        if score >= best_score:
            best, best_score = cut, score
    return best


def _timed_cues(groups: list[list[Word]]) -> list[Cue]:
    cues: list[Cue] = []
    previous_end = 0.0
    for index, group in enumerate(groups):
        next_start = groups[index + 1][0].start if index + 1 < len(groups) else math.inf
        start = max(group[0].start, previous_end)
        end = min(max(group[-1].end, start), start + MAX_CUE_SECONDS)
        if end - start < MIN_CUE_SECONDS:  # stay on screen a second if the next cue allows
            end = min(start + MIN_CUE_SECONDS, max(next_start, end))
        if end - start < MIN_CUE_SECONDS:  # else start earlier, into the silence before it
            start = max(previous_end, end - MIN_CUE_SECONDS)
        start, end = round(start, 3), round(end, 3)
        text = " ".join(w.text for w in group)
        if end - start < MIN_VISIBLE_SECONDS and cues:
            merged = f"{cues[-1].text} {text}"
            wrapped = (
                wrap_cue_text(merged) if len(" ".join(merged.split())) <= MAX_CUE_CHARS else None
            )
            merged_end = max(cues[-1].end, end)
            if wrapped is not None and merged_end - cues[-1].start <= MAX_CUE_SECONDS:
                cues[-1] = Cue(cues[-1].start, merged_end, wrapped)
                previous_end = cues[-1].end
                continue
        if end - start < MIN_VISIBLE_SECONDS:
            end = round(start + MIN_VISIBLE_SECONDS, 3)
        cues.append(Cue(start, end, _fit_text(text)))
        previous_end = end
    return cues


def _fit_text(text: str) -> str:
    # groups are built so that they fit; balanced lines are only a safety net
    wrapped = wrap_cue_text(text)
    if wrapped is not None:
        return wrapped
    words = text.split()
    return "\n".join(_balanced_lines(words, min(MAX_CUE_LINES, len(words))))


def _balanced_lines(words: list[str], line_count: int) -> list[str]:
    """Split `words` into `line_count` lines so that the longest line is as short as possible."""
    count = len(words)
    line_count = max(1, min(line_count, count))

    ends = [0]
    for word in words:
        ends.append(ends[-1] + len(word))

    def width(first: int, last: int) -> int:  # characters of words[first:last] on one line
        return ends[last] - ends[first] + (last - first - 1)

    if line_count == 1:
        return [" ".join(words)]
    if line_count == 2:  # the common case, without the general search below
        cut = min(range(1, count), key=lambda c: (max(width(0, c), width(c, count)), c))
        return [" ".join(words[:cut]), " ".join(words[cut:])]

    # best[k][i]: (longest line, breaks) for words[:i] on k lines
    best: list[dict[int, tuple[int, list[int]]]] = [{0: (0, [])}]
    for lines in range(1, line_count + 1):
        layer: dict[int, tuple[int, list[int]]] = {}
        for end in range(lines, count + 1):
            options = [
                (max(longest, width(begin, end)), breaks + [end])
                for begin, (longest, breaks) in best[lines - 1].items()
                if begin < end
            ]
            if options:
                layer[end] = min(options, key=lambda option: option[0])
        best.append(layer)
    breaks = best[line_count][count][1]
    starts = [0, *breaks[:-1]]
    return [" ".join(words[a:b]) for a, b in zip(starts, breaks, strict=True)]


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
