"""Where subtitle text reads well broken, and how a cue's text is laid out on its lines.

Both the break between two cues and the break between a cue's two lines follow the same
preferences: after the end of a sentence, then after the end of a clause (a comma, semicolon,
colon or dash), then before a conjunction, then before a preposition that opens a
phrase. Never, if it can be helped, right after a word that leads into the next one ("the |
settings", "to | save", "and | click"), since the reader then holds half a phrase in mind.
The word lists cover English and the languages Reeldocs translates subtitles into (Spanish,
Galician, Catalan, Esperanto); punctuation carries the rest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MAX_LINE_CHARS = 42
MAX_CUE_LINES = 2

# Break qualities, best first: each step reads a little worse than the one before.
SENTENCE = 0
CLAUSE = 1
CONJUNCTION = 2
PHRASE = 3
PLAIN = 4
WEAK_BOUND = 5
BOUND = 6

_CLOSING = "'\")]}”’»"
_SENTENCE_END = re.compile(rf"[.!?…][{re.escape(_CLOSING)}]*$")
_CLAUSE_END = re.compile(rf"[,;:–—][{re.escape(_CLOSING)}]*$")
_DASH = frozenset({"-", "–", "—"})
# "e.g." or "Mr." end in a full stop without ending the sentence.
_ABBREVIATIONS = frozenset("e.g. i.e. mr. mrs. ms. dr. vs. approx. no. fig.".split())

# A break before these reads well: they open a new clause.
CONJUNCTIONS = frozenset(
    (
        # English
        "and but or nor so yet because when while whereas although though unless until "
        "since which who whom whose where if then "
        # Spanish
        "y e pero porque cuando aunque mientras pues sino si donde cual "
        # Galician
        "mais cando aínda mentres onde "
        # Catalan
        "i però perquè quan mentre "
        # Esperanto
        "kaj sed aŭ ĉar kiam dum kvankam"
    ).split()
)
# Prepositions and the like open a phrase: a break before them reads well enough.
_PHRASE_OPENERS = frozenset(
    (
        "to of in on at by for with from into onto about over under through between after "
        "before without within via per as than "
        "al del de a en con por para sin sobre entre hacia desde hasta que "
        "do da dos das no na nos nas ao á aos ás sen cara ata "
        "d' dels als amb per sense cap fins "
        "de en al por kun sen pri ĉe ke"
    ).split()
)
# Articles, determiners and possessives tie to the noun after them and are often the
# object of the verb before: a break before them reads worse, right after them worst.
_DETERMINERS = frozenset(
    (
        "the a an this that these those my your our their his her its each every some any no "
        "el la los las un una unos unas lo su sus mi mis tu tus este esta estos estas ese esa "
        "esos esas cada nuestro nuestra "
        "o os as unha uns unhas seu súa seus súas "
        "els les l' aquest aquesta aquests aquestes "
        "la"
    ).split()
)
_LEADING_WORDS = _PHRASE_OPENERS | _DETERMINERS
# Auxiliaries and subject pronouns: splitting "you | click" or "will | be" reads badly too.
_WEAKLY_LEADING_WORDS = frozenset(
    (
        "is are was were be been being am has have had do does did will would can could "
        "should must may might shall i you we they he she "
        "es son está están ha han puede pueden se le les me te nos "
        "é son está están pode poden "
        "és són pot poden "
        "estas estis povas"
    ).split()
)
BINDS_FORWARD = _LEADING_WORDS | CONJUNCTIONS
# What a line break costs at each quality, against 1 for every 12 characters of difference
# between the two lines.
_LINE_BREAK_COST = {
    SENTENCE: 0.0,
    CLAUSE: 0.6,
    CONJUNCTION: 1.2,
    PHRASE: 1.8,
    PLAIN: 2.4,
    WEAK_BOUND: 3.5,
    BOUND: 5.0,
}


def bare_word(word: str) -> str:
    """`word` without surrounding punctuation, case folded, for the word lists above."""
    return word.strip(".,!?…;:'\"()[]{}«»“”‘’¿¡").casefold()


def ends_sentence(word: str) -> bool:
    return _SENTENCE_END.search(word) is not None and word.casefold() not in _ABBREVIATIONS


def ends_clause(word: str) -> bool:
    return _CLAUSE_END.search(word) is not None or word in _DASH


def break_quality(before: str, after: str) -> int:
    """How well text reads broken between the words `before` and `after`: SENTENCE (best)
    to BOUND (a phrase cut in two)."""
    if ends_sentence(before):
        return SENTENCE
    if ends_clause(before) or after in _DASH:
        return CLAUSE
    left, right = bare_word(before), bare_word(after)
    if left in BINDS_FORWARD:
        return BOUND
    if left in _WEAKLY_LEADING_WORDS:
        return WEAK_BOUND
    if right in CONJUNCTIONS:
        return CONJUNCTION
    if right in _PHRASE_OPENERS:
        return PHRASE
    return PLAIN


def text_length(words: Sequence[str]) -> int:
    """Characters of `words` written on one line, spaces included."""
    return sum(len(word) for word in words) + max(len(words) - 1, 0)


def layout_lines(
    words: Sequence[str], max_line_length: int = MAX_LINE_CHARS
) -> tuple[list[str], float] | None:
    """`words` on one line, or else on two lines of at most `max_line_length` characters
    broken where it reads best and of similar length; with the cost of that break (0 for a
    single line). None when the words do not fit on two lines."""
    count = len(words)
    if count == 0:
        return [], 0.0
    total = text_length(words)
    if total <= max_line_length:
        return [" ".join(words)], 0.0
    if count < 2 or total > MAX_CUE_LINES * max_line_length + 1:
        return None
    best: tuple[float, int] | None = None
    top = -1  # characters of words[:cut] on one line
    for cut in range(1, count):
        top += len(words[cut - 1]) + 1
        bottom = total - top - 1
        if top > max_line_length:
            break
        if bottom > max_line_length:
            continue
        # similar lengths and a good break weigh together; of two equal layouts the one
        # with the shorter top line wins (the bottom-heavy shape most house styles prefer)
        cost = abs(top - bottom) / 12 + _LINE_BREAK_COST[break_quality(words[cut - 1], words[cut])]
        cost += 0.01 if top > bottom else 0.0
        if best is None or cost < best[0]:
            best = (cost, cut)
    if best is None:
        return None
    cost, cut = best
    return [" ".join(words[:cut]), " ".join(words[cut:])], cost


def wrap_cue_text(text: str, max_line_length: int = MAX_LINE_CHARS) -> str | None:
    """`text` on one line, or two balanced lines broken at a natural point, of at most
    `max_line_length` characters each; None when it does not fit on two lines."""
    layout = layout_lines(text.split(), max_line_length)
    return None if layout is None else "\n".join(layout[0])
