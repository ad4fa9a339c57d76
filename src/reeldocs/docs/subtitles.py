"""Subtitle cues from timed speech, their translations, and how fast they read.

Reading speed is in characters per second (cps): the characters of a cue's text, spaces and
punctuation included and a line break counted as one character (so the length of the text
written on one line), divided by the seconds the cue is on screen.

Cues in the spoken language follow common subtitling guidance:

- at most two lines of 42 characters, broken where the text reads best (see subtitle_text);
- a new cue at the end of a sentence or a clause, or else before a conjunction, rather than
  in the middle of a phrase; without punctuation (older transcripts) pauses and the ends of
  the recogniser's segments stand in for it, and a pause over a second always ends a cue;
- 1 to 7 seconds on screen, and at most 20 cps, aiming for 17. To get there a cue stays on
  screen into the silence after its speech, and may appear up to half a second early in the
  silence before it;
- never two cues on screen at once: at least 80 ms (two frames) between them, and gaps
  shorter than half a second are closed down to that, so the screen does not flicker.

A cue is shorter than a second only where the speech itself is shorter and there is no room
around it: it then starts as early as it may (half a second before its speech, or 80 ms after
the previous cue, or at 0) and ends 80 ms before the next cue.

Where the speech is faster than 20 cps even with the silence around it, no way of cutting it
helps: shorter cues give the reader fewer characters and less time in the same proportion.
Reeldocs then keeps every word, in step with the speech: such a cue gets all the time it
may have (from as early as it may appear to 80 ms before the next cue), neighbours on screen
back to back share the silence between them so that the excess is spread rather than piled
on one cue, the breaks are still chosen for reading, and `reading_speed` reports it. Words
are not dropped or condensed: in product videos they are the names of buttons and settings a
reader needs as said, and drifting out of step with the speech would show them at the wrong
moment. Speech at a normal rate (150 to 180 words a minute, about 14 to 17 cps at English's
average word length) always meets the limit.

Translated cues keep the source cue's time span; a translation too long for two lines of 42
characters is split into several cues inside that span, each given time in proportion to its
characters. Their reading speed is reported, not capped: the source timing is what the video
allows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from reeldocs.docs.subtitle_files import Cue, parse_srt, parse_webvtt, to_srt, to_webvtt
from reeldocs.docs.subtitle_text import (
    BOUND,
    CLAUSE,
    CONJUNCTION,
    MAX_CUE_LINES,
    MAX_LINE_CHARS,
    PHRASE,
    PLAIN,
    SENTENCE,
    WEAK_BOUND,
    break_quality,
    ends_sentence,
    layout_lines,
    text_length,
    wrap_cue_text,
)
from reeldocs.docs.subtitle_timing import (
    CUE_GAP_SECONDS,
    MAX_CPS,
    MAX_CUE_SECONDS,
    MAX_LEAD_SECONDS,
    MIN_CUE_SECONDS,
    TARGET_CPS,
    SpokenSpan,
    cue_times,
)
from reeldocs.providers.base import Segment, Word

__all__ = [
    "MAX_CPS",
    "MAX_CUE_LINES",
    "MAX_CUE_SECONDS",
    "MAX_LINE_CHARS",
    "MIN_CUE_SECONDS",
    "TARGET_CPS",
    "Cue",
    "ReadingSpeed",
    "build_source_cues",
    "characters_per_second",
    "parse_srt",
    "parse_webvtt",
    "readable_word",
    "reading_speed",
    "to_srt",
    "to_webvtt",
    "translate_cues",
    "wrap_cue_text",
]

# A pause this long always starts a new cue: text should not wait on screen for its speech.
PAUSE_SECONDS = 1.0
MAX_CUE_CHARS = MAX_CUE_LINES * MAX_LINE_CHARS + 1

# What recognisers put in transcripts besides words (<sil>, [NOISE], the(2) and the like).
_ASR_MARKER = re.compile(r"^(?:<[^>]*>|\[[^\]]*\]|\+\+[^+]*\+\+)$")
_ALTERNATE_PRONUNCIATION = re.compile(r"\(\d+\)$")
FILLER_WORDS = frozenset({"uh", "um", "uhm", "umm", "er", "erm", "ah", "hmm", "mm", "mhm"})

# How much each thing a reader notices costs when choosing where cues break.
_CUE_COST = 2.0  # every cue: fewer, fuller cues read more calmly
# A cue ending after a sentence is free, after a clause nearly so; before a conjunction or a
# preposition it costs more than an extra cue; inside a phrase, much more.
_BREAK_COST = {
    SENTENCE: 0.0,
    CLAUSE: 1.5,
    CONJUNCTION: 4.0,
    PHRASE: 7.0,
    PLAIN: 9.0,
    WEAK_BOUND: 14.0,
    BOUND: 30.0,
}
_OVER_TARGET_COST = 0.15  # per character over what 17 cps allows
_OVER_LIMIT_COST = 2.0  # per character over what 20 cps allows
_LAYOUT_WEIGHT = 0.5  # times the cost of the cue's line break (subtitle_text.layout_lines)
_SHORT_COST = 30.0  # per second under the one-second minimum
_PAUSE_COST = 6.0  # per second of pause inside a cue beyond _QUIET_PAUSE
_QUIET_PAUSE = 0.3
_RUN_ON_COST = 8.0  # a cue holds the end of one sentence and part of another


@dataclass(frozen=True)
class _Spoken:
    text: str
    start: float
    end: float
    ends_segment: bool


@dataclass(frozen=True)
class ReadingSpeed:
    """How fast a subtitle track reads, in characters per second (see the module notes)."""

    cues: int
    max_cps: float
    mean_cps: float
    p95_cps: float
    share_over_17: float  # of the cues, 0 to 1
    share_over_20: float


def readable_word(token: str) -> str:
    """`token` without recogniser markup; "" for silence, noise and fillers such as "um"."""
    token = token.strip()
    if not token or _ASR_MARKER.match(token):
        return ""
    token = _ALTERNATE_PRONUNCIATION.sub("", token)
    if token.strip(".,!?;:").casefold() in FILLER_WORDS:
        return ""
    return token


def characters_per_second(cue: Cue) -> float:
    """The characters of the cue's text, a line break counting as one, per second shown."""
    duration = cue.end - cue.start
    return len(cue.text) / duration if duration > 0 else math.inf


def reading_speed(cues: Sequence[Cue]) -> ReadingSpeed:
    """Reading speed of a track: the fastest cue, the mean and 95th percentile over cues,
    and the share of cues over 17 and over 20 cps."""
    speeds = sorted(characters_per_second(cue) for cue in cues)
    if not speeds:
        return ReadingSpeed(0, 0.0, 0.0, 0.0, 0.0, 0.0)
    count = len(speeds)
    nearest_rank = max(math.ceil(0.95 * count) - 1, 0)
    return ReadingSpeed(
        cues=count,
        max_cps=speeds[-1],
        mean_cps=sum(speeds) / count,
        p95_cps=speeds[nearest_rank],
        share_over_17=sum(1 for s in speeds if s > TARGET_CPS) / count,
        share_over_20=sum(1 for s in speeds if s > MAX_CPS) / count,
    )


def build_source_cues(segments: Sequence[Segment]) -> list[Cue]:
    """Cues for the spoken words, timed by word timings when the recogniser gave them."""
    words = _spoken_words(segments)
    if not words:
        return []
    groups = _choose_cues(words)
    times = cue_times(
        [
            SpokenSpan(
                words[first].start,
                words[last - 1].end,
                text_length([word.text for word in words[first:last]]),
            )
            for first, last in groups
        ]
    )
    cues = []
    for (first, last), (start, end) in zip(groups, times, strict=True):
        texts = [word.text for word in words[first:last]]
        layout = layout_lines(texts)
        # a cue is only chosen when its words fit; a single word always does
        lines = layout[0] if layout is not None else [" ".join(texts)]
        cues.append(Cue(start, end, "\n".join(lines)))
    return cues


def translate_cues(cues: Sequence[Cue], translated_texts: Sequence[str]) -> list[Cue]:
    """Cues with the translated texts, inside the source cues' time spans.

    A translation that fits two lines of 42 characters keeps its source cue's timing; a
    longer one becomes several cues sharing that span in proportion to their characters,
    split at sentence or clause ends where it can, else at balanced word boundaries.
    """
    if len(cues) != len(translated_texts):
        raise ValueError(
            f"{len(translated_texts)} translated subtitle lines were given for {len(cues)} "
            "cues; every cue needs exactly one."
        )
    translated: list[Cue] = []
    for cue, text in zip(cues, translated_texts, strict=True):
        words = _line_sized(text.split() or cue.text.split())
        if not words:
            translated.append(cue)
            continue
        translated.extend(_share_span(cue, _fitting_parts(words, cue.end - cue.start)))
    return translated


# ---- words from segments ----


def _spoken_words(segments: Sequence[Segment]) -> list[_Spoken]:
    words: list[_Spoken] = []
    for segment in sorted(segments, key=lambda s: (s.start_time, s.end_time)):
        timed = _timed_words(segment)
        words.extend(
            _Spoken(word.text, word.start, word.end, index == len(timed) - 1)
            for index, word in enumerate(timed)
        )
    return _monotonic(_split_long_words(words))


def _timed_words(segment: Segment) -> list[Word]:
    if segment.words:
        cleaned = [Word(readable_word(w.text), w.start, w.end) for w in segment.words]
        return [w for w in cleaned if w.text]
    tokens = [readable_word(token) for token in segment.spoken_content.split()]
    tokens = [token for token in tokens if token]
    if not tokens:
        return []
    # No word timings: time is shared in proportion to characters (a word and the space
    # after it), so every cue built from the segment reads at the segment's own speed.
    span = max(segment.end_time - segment.start_time, 0.0)
    total = sum(len(token) + 1 for token in tokens)
    words: list[Word] = []
    position = 0
    for token in tokens:
        start = segment.start_time + span * position / total
        position += len(token) + 1
        end = segment.start_time + span * (position - 1) / total
        words.append(Word(token, start, end))
    return words


def _split_long_words(words: list[_Spoken]) -> list[_Spoken]:
    """Words longer than a line (spoken URLs, glued tokens) become line-sized pieces."""
    result: list[_Spoken] = []
    for word in words:
        if len(word.text) <= MAX_LINE_CHARS:
            result.append(word)
            continue
        pieces = _line_sized([word.text])
        share = max(word.end - word.start, 0.0) / len(pieces)
        result.extend(
            _Spoken(
                piece,
                word.start + i * share,
                word.start + (i + 1) * share,
                word.ends_segment and i == len(pieces) - 1,
            )
            for i, piece in enumerate(pieces)
        )
    return result


def _line_sized(words: list[str]) -> list[str]:
    return [
        word[i : i + MAX_LINE_CHARS] for word in words for i in range(0, len(word), MAX_LINE_CHARS)
    ]


def _monotonic(words: list[_Spoken]) -> list[_Spoken]:
    """Word times that never go backwards (recognisers and merged segments can overlap)."""
    result: list[_Spoken] = []
    floor = 0.0
    for word in words:
        start = max(word.start, floor) if math.isfinite(word.start) else floor
        end = max(word.end, start) if math.isfinite(word.end) else start
        result.append(_Spoken(word.text, start, end, word.ends_segment))
        floor = start
    return result


# ---- where cues break ----


def _choose_cues(words: list[_Spoken]) -> list[tuple[int, int]]:
    """The cues, as (first word, word after the last), that read best all together.

    Dynamic programming over the places a cue can end: each cue costs its break, its
    reading speed in the time it can have, its line layout and any pause inside it.
    """
    count = len(words)
    texts = [word.text for word in words]
    end_cost = [0.0] * (count + 1)  # of a cue ending before word k
    for k in range(1, count):
        end_cost[k] = _BREAK_COST[_break_quality_at(words, k)]
    # The silence before word k is shared: the cue starting there may take up to half of
    # it (at most MAX_LEAD_SECONDS) to appear early, the cue before keeps the rest.
    lead = [min(max(words[0].start, 0.0), MAX_LEAD_SECONDS)]
    for k in range(1, count):
        silence = words[k].start - words[k - 1].end
        lead.append(min(max((silence - CUE_GAP_SECONDS) / 2, 0.0), MAX_LEAD_SECONDS))
    pause_cost = [0.0]  # prefix sums of the cost of pauses after word k
    sentence_ends = [0]  # prefix counts of words ending a sentence
    for k in range(count):
        pause = words[k + 1].start - words[k].end if k + 1 < count else 0.0
        pause_cost.append(pause_cost[-1] + _PAUSE_COST * max(pause - _QUIET_PAUSE, 0.0))
        sentence_ends.append(sentence_ends[-1] + ends_sentence(texts[k]))

    best = [math.inf] * (count + 1)
    best[0] = 0.0
    previous = [0] * (count + 1)
    for first in range(count):
        if best[first] == math.inf:
            continue
        start = words[first].start - lead[first]
        for last in range(first + 1, count + 1):
            chars = text_length(texts[first:last])
            if last - first > 1 and (
                words[last - 1].start - words[last - 2].end > PAUSE_SECONDS
                or words[last - 1].end - words[first].start > MAX_CUE_SECONDS
                or chars > MAX_CUE_CHARS
            ):
                break
            layout = layout_lines(texts[first:last])
            if layout is None:
                break  # more words cannot fit where these do not
            end_limit = (
                words[last].start - CUE_GAP_SECONDS - lead[last] if last < count else math.inf
            )
            window = min(end_limit, start + MAX_CUE_SECONDS) - start
            cost = _CUE_COST + end_cost[last] + _LAYOUT_WEIGHT * layout[1]
            cost += _reading_cost(chars, window)
            cost += pause_cost[last - 1] - pause_cost[first]
            if sentence_ends[last - 1] - sentence_ends[first] and (
                end_cost[first] or end_cost[last]
            ):
                cost += _RUN_ON_COST
            if best[first] + cost < best[last]:
                best[last] = best[first] + cost
                previous[last] = first
    groups: list[tuple[int, int]] = []
    last = count
    while last > 0:
        groups.append((previous[last], last))
        last = previous[last]
    return groups[::-1]


def _break_quality_at(words: list[_Spoken], k: int) -> int:
    """How well a cue break reads before word k, counting pauses as punctuation."""
    quality = break_quality(words[k - 1].text, words[k].text)
    pause = words[k].start - words[k - 1].end
    if pause >= PAUSE_SECONDS:
        return SENTENCE
    if quality >= WEAK_BOUND:
        return quality  # a speaker hesitating after "the" or "to" has not finished the phrase
    # short of a second, a pause makes a break as good as a clause end, not a sentence end
    if pause >= 0.5 or words[k - 1].ends_segment:
        return min(quality, CLAUSE)
    if pause >= 0.25:
        return max(quality - 1, CLAUSE) if quality > CLAUSE else quality
    return quality


def _reading_cost(chars: int, window: float) -> float:
    """What reading `chars` characters in `window` seconds costs. Counted in characters
    beyond what 17 and 20 cps allow, so that moving words between cues over fast speech
    costs nothing by itself and the breaks there are still chosen for reading."""
    cost = 0.0
    if window < MIN_CUE_SECONDS:
        cost += _SHORT_COST * (MIN_CUE_SECONDS - max(window, 0.0))
    window = max(window, 0.0)
    cost += _OVER_TARGET_COST * max(chars - TARGET_CPS * window, 0.0)
    cost += _OVER_LIMIT_COST * max(chars - MAX_CPS * window, 0.0)
    return cost


# ---- translations ----


def _fitting_parts(words: list[str], span_seconds: float) -> list[list[str]]:
    """`words` in as few parts as fit two lines of 42 characters each, cut where it reads
    best among those with parts of similar length; a part that would get less than a
    second of the `span_seconds` they share costs more, when the span has the time."""
    if layout_lines(words) is not None:
        return [words]
    # the fewest parts: filling each one greedily is optimal since fitting is monotone
    part_count, first = 0, 0
    while first < len(words):
        last = first + 1
        while last < len(words) and layout_lines(words[first : last + 1]) is not None:
            last += 1
        part_count, first = part_count + 1, last
    total = text_length(words)
    ideal = total / part_count
    # seconds a character gets when the span is shared in proportion to characters
    seconds_per_character = span_seconds / total if span_seconds >= part_count else 0.0
    count = len(words)
    # best[p][j]: cheapest (cost, cuts) for words[:j] in p parts
    best: list[dict[int, tuple[float, list[int]]]] = [{0: (0.0, [])}]
    for parts in range(1, part_count + 1):
        layer: dict[int, tuple[float, list[int]]] = {}
        ends = range(parts, count + 1) if parts < part_count else range(count, count + 1)
        for end in ends:
            options = []
            # a part that fits has at most one word per two characters
            for begin in range(max(end - MAX_CUE_CHARS // 2 - 1, 0), end):
                if begin not in best[parts - 1]:
                    continue
                cost, cuts = best[parts - 1][begin]
                layout = layout_lines(words[begin:end])
                if layout is None:
                    continue
                length = text_length(words[begin:end])
                part_cost = cost + layout[1] + abs(length - ideal) / 12
                if length * seconds_per_character < MIN_CUE_SECONDS:
                    part_cost += _SHORT_COST * (MIN_CUE_SECONDS - length * seconds_per_character)
                if end < count:
                    part_cost += _BREAK_COST[break_quality(words[end - 1], words[end])]
                options.append((part_cost, [*cuts, end]))
            if options:
                layer[end] = min(options, key=lambda option: option[0])
        best.append(layer)
    cuts = best[part_count][count][1]
    starts = [0, *cuts[:-1]]
    return [words[a:b] for a, b in zip(starts, cuts, strict=True)]


def _share_span(cue: Cue, parts: list[list[str]]) -> list[Cue]:
    """Cues for `parts` within `cue`'s span, timed in proportion to their characters, each
    given at least a second where the span has that much for every part."""
    texts = []
    for part in parts:
        layout = layout_lines(part)
        texts.append("\n".join(layout[0] if layout is not None else part))
    if len(texts) == 1:
        return [Cue(cue.start, cue.end, texts[0])]
    span_start, span_end = round(cue.start * 1000), round(cue.end * 1000)
    span = max(span_end - span_start, 0)
    # two frames between the parts, unless the span is too short to spare them
    gap = min(round(CUE_GAP_SECONDS * 1000), span // (10 * (len(texts) - 1)))
    usable = span - gap * (len(texts) - 1)
    durations = _at_least_a_second(usable, [len(text) for text in texts])
    shared: list[Cue] = []
    position = span_start
    for index, (text, duration) in enumerate(zip(texts, durations, strict=True)):
        end = span_end if index == len(texts) - 1 else position + duration
        shared.append(Cue(position / 1000, max(end, position) / 1000, text))
        position = max(end, position) + gap
    return shared


def _at_least_a_second(usable_ms: int, lengths: list[int]) -> list[int]:
    """`usable_ms` shared in proportion to `lengths`, then parts under a second raised to
    one, the time taken from the others in proportion to what they have above a second."""
    total = sum(lengths) or 1
    durations = [usable_ms * length / total for length in lengths]
    floor = MIN_CUE_SECONDS * 1000
    if usable_ms < floor * len(lengths):
        return [round(d) for d in durations]
    short = [i for i, d in enumerate(durations) if d < floor]
    missing = sum(floor - durations[i] for i in short)
    spare = sum(d - floor for i, d in enumerate(durations) if i not in short)
    if not short or spare <= 0:
        return [round(d) for d in durations]
    return [
        round(floor if i in short else d - missing * (d - floor) / spare)
        for i, d in enumerate(durations)
    ]
