"""Generated speech for subtitle tests, and the checks every subtitle track must pass.

A stream is made of sentences built from phrases (a determiner and a noun, a preposition and
a noun phrase, a verb and its object…), clauses joined by conjunctions, with or without
punctuation and capitals. Each word takes as long as its characters at the stream's speaking
rate; pauses follow sentence and clause ends, and now and then come anywhere.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from reeldocs.docs.subtitles import (
    MAX_CPS,
    MAX_CUE_SECONDS,
    MAX_LINE_CHARS,
    MIN_CUE_SECONDS,
    TARGET_CPS,
    Cue,
)
from reeldocs.providers.base import Segment, Word

GAP = 0.08
LEAD = 0.5
CLOSED_GAP = 0.5
# times are whole milliseconds: allow for rounding on both sides of a comparison
TOLERANCE = 0.0021

NOUNS = (
    "project video settings page button team owner file language subtitle chapter article "
    "screenshot dashboard account email menu tab list title colleague password"
).split()
LONG_NOUNS = "internationalisation configuration documentation administrator".split()
ADJECTIVES = "new first shared top right public private whole".split()
VERBS = "open click upload invite choose export save review drag select rename".split()
PREPOSITIONS = "in on to from with for into onto under".split()
DETERMINERS = "the a your this each".split()
CONJUNCTIONS = "and but so then because while".split()
SUBJECTS = ["you", "we", "the owner", "your team"]


@dataclass(frozen=True)
class SpokenWord:
    text: str
    start: float
    end: float
    phrase_end: bool  # the word ends a phrase: a break after it does not split one
    clause_end: bool
    sentence_end: bool


def make_stream(
    rng: random.Random,
    *,
    rate: float,
    sentences: int,
    punctuated: bool = True,
    long_words: float = 0.0,
    sentence_pause: tuple[float, float] = (0.0, 1.2),
    clause_pause: tuple[float, float] = (0.0, 0.5),
    stray_pauses: float = 0.03,
    jitter: float = 0.1,
    start: float = 0.0,
) -> list[SpokenWord]:
    """Words spoken at `rate` characters per second (a word and the space after it), each
    word's time varied by up to `jitter` either way."""
    words: list[SpokenWord] = []
    moment = start
    for _ in range(sentences):
        clauses = [_clause(rng, long_words) for _ in range(rng.choice([1, 1, 2, 2, 3]))]
        for clause_index, clause in enumerate(clauses):
            if clause_index:
                clause[0] = [rng.choice(CONJUNCTIONS), *clause[0]]
            for phrase_index, phrase in enumerate(clause):
                for word_index, text in enumerate(phrase):
                    last_in_phrase = word_index == len(phrase) - 1
                    last_in_clause = last_in_phrase and phrase_index == len(clause) - 1
                    last_in_sentence = last_in_clause and clause_index == len(clauses) - 1
                    shown = text
                    if punctuated:
                        if not words or words[-1].sentence_end:
                            shown = shown[0].upper() + shown[1:]
                        if last_in_sentence:
                            shown += rng.choice([".", ".", ".", "?", "!"])
                        elif last_in_clause:
                            shown += rng.choice([",", ",", ";", ":"])
                    length = (len(shown) + 1) / rate * rng.uniform(1 - jitter, 1 + jitter)
                    spoken = length * len(shown) / (len(shown) + 1)
                    words.append(
                        SpokenWord(
                            shown,
                            round(moment, 3),
                            round(moment + spoken, 3),
                            last_in_phrase,
                            last_in_clause,
                            last_in_sentence,
                        )
                    )
                    moment += length
                    if last_in_sentence:
                        moment += rng.uniform(*sentence_pause)
                    elif last_in_clause:
                        moment += rng.uniform(*clause_pause)
                    elif rng.random() < stray_pauses:
                        moment += rng.uniform(0.1, 0.6)
    return words


def _clause(rng: random.Random, long_words: float) -> list[list[str]]:
    def noun() -> str:
        return rng.choice(LONG_NOUNS) if rng.random() < long_words else rng.choice(NOUNS)

    def noun_phrase() -> list[str]:
        words = [rng.choice(DETERMINERS)]
        if rng.random() < 0.4:
            words.append(rng.choice(ADJECTIVES))
        words.append(noun())
        return words

    phrases = [rng.choice(SUBJECTS).split(), [rng.choice(VERBS)], noun_phrase()]
    for _ in range(rng.choice([0, 1, 1, 2])):
        phrases.append([rng.choice(PREPOSITIONS), *noun_phrase()])
    return phrases


def segments_of(words: list[SpokenWord], rng: random.Random) -> list[Segment]:
    """Recogniser segments of one to three sentences each, with word timings."""
    segments: list[Segment] = []
    current: list[SpokenWord] = []
    sentences_left = rng.randint(1, 3)
    for word in words:
        current.append(word)
        if word.sentence_end:
            sentences_left -= 1
        if current and (sentences_left == 0 or word is words[-1]):
            segments.append(
                Segment(
                    current[0].start,
                    current[-1].end,
                    " ".join(w.text for w in current),
                    words=[Word(w.text, w.start, w.end) for w in current],
                )
            )
            current, sentences_left = [], rng.randint(1, 3)
    return segments


@dataclass(frozen=True)
class CueSpeech:
    """The words a cue shows, as they were spoken."""

    cue: Cue
    words: list[SpokenWord]

    @property
    def spoken_from(self) -> float:
        return self.words[0].start

    @property
    def spoken_to(self) -> float:
        return self.words[-1].end


def match_words(cues: list[Cue], words: list[SpokenWord]) -> list[CueSpeech]:
    """Each cue with the spoken words it shows; fails unless the cues show every word once,
    in order."""
    matched: list[CueSpeech] = []
    position = 0
    for cue in cues:
        shown = cue.text.split()
        assert [w.text for w in words[position : position + len(shown)]] == shown, cue
        matched.append(CueSpeech(cue, words[position : position + len(shown)]))
        position += len(shown)
    assert position == len(words), "some words are not subtitled"
    return matched


def check_layout(cue: Cue) -> None:
    lines = cue.text.split("\n")
    assert 1 <= len(lines) <= 2, cue
    assert all(0 < len(line) <= MAX_LINE_CHARS and line == line.strip() for line in lines), cue


def check_track(cues: list[Cue]) -> None:
    """What holds for every track, however odd the speech: two lines of 42 characters at
    most, at most 7 s on screen, never two cues at once, 80 ms at least between cues."""
    for index, cue in enumerate(cues):
        check_layout(cue)
        assert 0 <= cue.start < cue.end, cue
        assert cue.end - cue.start <= MAX_CUE_SECONDS + 1e-9, cue
        if index + 1 < len(cues):
            assert cues[index + 1].start - cue.end >= GAP - 1e-9, (cue, cues[index + 1])


def earliest_start(matched: list[CueSpeech], index: int) -> float:
    """The earliest a cue may appear: half a second before its speech, in silence only."""
    item = matched[index]
    earliest = max(0.0, item.spoken_from - LEAD)
    if index:
        previous = matched[index - 1]
        earliest = max(
            earliest,
            min(item.spoken_from, previous.spoken_to + GAP),
            previous.cue.end + GAP,
        )
    return earliest


def check_timing(matched: list[CueSpeech], *, normal_rate: bool) -> None:
    """The timing rules for speech with sensible word timings.

    - A cue appears no later than its first word, and at most half a second earlier, into
      silence only; it stays at least until its last word ends or the next cue's speech
      begins (less the 80 ms gap).
    - It lasts 1 to 7 s. Shorter than 1 s is allowed only where the speech leaves no room:
      the cue then starts at its earliest allowed moment and ends 80 ms before the next cue.
    - It stays past its speech only as long as it needs to reach 17 cps and a second, or to
      close a gap shorter than half a second to the next cue.
    - A cue reads faster than 17 cps only when it has all the time it may have (as for
      a cue under a second); at a normal speaking rate, never faster than 20 cps.
    - Faster speech: a cue over 20 cps has all the time it may have, from its earliest
      allowed start (or 80 ms after the previous cue) to 80 ms before the next cue.
    """
    for index, item in enumerate(matched):
        cue = item.cue
        following = matched[index + 1] if index + 1 < len(matched) else None
        earliest = earliest_start(matched, index)
        assert cue.start <= item.spoken_from + TOLERANCE, cue
        assert cue.start >= earliest - TOLERANCE, (cue, earliest)
        stays_until = item.spoken_to
        if following is not None:
            stays_until = min(stays_until, following.spoken_from - GAP)
        assert cue.end >= stays_until - TOLERANCE, cue
        duration = cue.end - cue.start
        squeezed = (
            following is not None
            and abs(following.cue.start - GAP - cue.end) <= TOLERANCE
            and abs(cue.start - earliest) <= TOLERANCE
        )
        if duration < MIN_CUE_SECONDS - TOLERANCE:
            assert squeezed, (cue, earliest)
        needed_end = max(
            item.spoken_to, cue.start + max(MIN_CUE_SECONDS, len(cue.text) / TARGET_CPS)
        )
        if cue.end > needed_end + TOLERANCE:
            assert following is not None, cue
            assert abs(following.cue.start - GAP - cue.end) <= TOLERANCE, cue
        cps = len(cue.text) / duration
        if cps > TARGET_CPS + 0.01:
            # over 17 only with no more time to take on either side
            assert squeezed or duration >= MAX_CUE_SECONDS - TOLERANCE, (cue, cps)
        if normal_rate:
            assert cps <= MAX_CPS + 1e-9, (cue, cps)
        elif cps > MAX_CPS:
            assert squeezed, (cue, cps)
