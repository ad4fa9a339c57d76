"""The terms a video's translations carry through: the product names it shows and says, and
its project's glossary.

A product name is a capitalised word, or a run of them ("Acme Uploader"), written with a
capital where an ordinary word would have none: inside a sentence of the transcript, or
inside a line of on-screen text written in sentence case ("Try Acme Uploader today").
Capitals tell nothing at the start of a sentence or of a line, nor anywhere in a
title-cased heading on screen ("Invite Your Team", "Welcome to Acme"), nor for words
English always capitalises (I, days, months, languages). Speech is written in sentence
case, so the same words said ("Welcome to Acme Docs.") do name "Acme Docs". A run that
starts a sentence keeps its first word only when that word is capitalised inside a
sentence somewhere else: "Acme Uploader keeps your videos" alone gives "Uploader", and
"Open Settings now" gives "Settings", not "Open".
A single word the video also uses in small letters ("click Save", then "save your work") is
an ordinary word used as a label, and is left out: kept, it would stay untranslated at every
sentence start too. Only text that has capitals at all tells that (a recogniser may write
everything in small letters).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from reeldocs.core.languages import LANGUAGE_NAMES
from reeldocs.glossary.models import GlossaryTerm
from reeldocs.providers.base import Scene, Segment, Terminology

# Words a title-cased heading leaves in small letters.
_MINOR_WORDS = frozenset(
    "a an and as at but by for from in into nor of off on onto or over per so than the to up "
    "via vs with yet".split()
)
_ALWAYS_CAPITALISED = frozenset(
    [
        *"Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(),
        *"January February March April May June July August September October November".split(),
        "December",
        *LANGUAGE_NAMES.values(),
    ]
)
_PRONOUN_I = re.compile(r"^I(?:['’](?:m|ve|ll|d))?$")
# A word: letters and digits, with inner apostrophes, dots, hyphens, & and + ("Node.js").
_WORD = re.compile(r"[^\W_](?:[\w'’.&+-]*[^\W_])?")
_SENTENCE_END = re.compile(r"[.!?…:;]")
_POSSESSIVE = re.compile(r"['’]s$")


@dataclass(frozen=True)
class _Word:
    text: str
    start: int
    end: int
    capitalised: bool
    opens: bool  # first of its sentence or line: its capital may be the sentence's
    informative: bool  # its sentence or line is not title-cased
    joined: bool  # nothing but spaces between it and the word before


def find_product_names(scenes: Iterable[Scene], segments: Iterable[Segment]) -> frozenset[str]:
    """Product names and other proper names the video shows or says (see the module)."""
    sources = [(segment.spoken_content, False) for segment in segments]
    sources += [(scene.text, True) for scene in scenes]
    texts = [(source, _words(source, lines_open=lines_open)) for source, lines_open in sources]
    evidenced = {
        word.text
        for _, words in texts
        for word in words
        if word.capitalised and not word.opens and word.informative
    }
    in_small_letters = {
        word.text
        for source, words in texts
        if any(character.isupper() for character in source)
        for word in words
        if word.text.islower()
    }
    names: set[str] = set()
    for source, words in texts:
        for run in _capitalised_runs(words):
            if run[0].opens and run[0].text not in evidenced:
                run = run[1:]
            if not any(word.informative and not word.opens for word in run):
                continue
            name = _POSSESSIVE.sub("", " ".join(source[run[0].start : run[-1].end].split()))
            ordinary = len(run) == 1 and name.lower() in in_small_letters
            if not ordinary and name not in _ALWAYS_CAPITALISED and len(name) > 1:
                names.add(name)
    return frozenset(names)


def _words(text: str, *, lines_open: bool) -> list[_Word]:
    """The words of a transcript segment or of a scene's on-screen text, marked up."""
    words: list[_Word] = []
    lines = text.split("\n") if lines_open else [text]
    offset = 0
    for line in lines:
        for sentence_start, sentence_end in _sentences(line):
            sentence = line[sentence_start:sentence_end]
            found = list(_WORD.finditer(sentence))
            informative = (
                _sentence_case(_line_words(line))
                if lines_open
                else not _every_word_capitalised([m.group(0) for m in found])
            )
            for index, match in enumerate(found):
                start = offset + sentence_start + match.start()
                before = text[words[-1].end : start] if words else ""
                words.append(
                    _Word(
                        text=match.group(0),
                        start=start,
                        end=start + len(match.group(0)),
                        capitalised=_is_capitalised(match.group(0)),
                        opens=index == 0,
                        informative=informative,
                        joined=bool(words) and not before.strip(),
                    )
                )
        offset += len(line) + 1
    return words


def _sentences(line: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a line: they end at . ! ? … : ; before a space."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(line):
        following = line[match.end() : match.end() + 1]
        if following and not following.isspace():
            continue  # "Node.js", "3.5", "12:30"
        spans.append((start, match.end()))
        start = match.end()
    spans.append((start, len(line)))
    return [(s, e) for s, e in spans if line[s:e].strip()]


def _line_words(line: str) -> list[str]:
    return [match.group(0) for match in _WORD.finditer(line)]


def _sentence_case(words: list[str]) -> bool:
    """True when some word after the first, other than a minor one, has a small letter: the
    capitals of the others then mean something. A title-cased line tells nothing."""
    return any(
        word[0].islower() and word.casefold() not in _MINOR_WORDS
        for word in words[1:]
        if word[0].isalpha()
    )


def _every_word_capitalised(words: list[str]) -> bool:
    """Speech is written in sentence case: only a sentence whose every word, small ones
    included, has a capital ("Welcome To The Show") tells nothing by its capitals."""
    return all(word[0].isupper() for word in words if word[0].isalpha())


def _is_capitalised(word: str) -> bool:
    if _PRONOUN_I.match(word):
        return False
    return word[0].isupper() or any(character.isupper() for character in word[1:])


def _capitalised_runs(words: list[_Word]) -> list[list[_Word]]:
    """Consecutive capitalised words with only spaces (or a line break) between them."""
    runs: list[list[_Word]] = []
    after_capitalised = False
    for word in words:
        if word.capitalised:
            if after_capitalised and word.joined:
                runs[-1].append(word)
            else:
                runs.append([word])
        after_capitalised = word.capitalised
    return runs


# ---- the terminology of one language ------------------------------------------------------


def terminology(
    language: str,
    product_names: Iterable[str],
    glossary: Iterable[tuple[str, dict[str, str]]],
) -> Terminology:
    """What translating into `language` keeps and forces: the glossary's terms (forced where
    it has a translation for `language`, kept otherwise) and the product names it does not
    list. A glossary term written with a small first letter also matches capitalised, at
    the start of a sentence."""
    keep: set[str] = set()
    forced: dict[str, str] = {}
    listed: set[str] = set()
    for term, translations in glossary:
        listed.add(term.lower())
        translation = translations.get(language)
        for spelling, said in _spellings(term, translation):
            if said is None:
                keep.add(spelling)
            else:
                forced[spelling] = said
    keep.update(name for name in product_names if name.lower() not in listed)
    return Terminology(keep=frozenset(keep), forced=forced)


def _spellings(term: str, translation: str | None) -> list[tuple[str, str | None]]:
    spellings: list[tuple[str, str | None]] = [(term, translation)]
    if term[:1].islower():
        capital = translation[:1].upper() + translation[1:] if translation else None
        spellings.append((term[:1].upper() + term[1:], capital))
    return spellings


async def load_glossary(
    engine: AsyncEngine, project_id: uuid.UUID
) -> list[tuple[str, dict[str, str]]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(GlossaryTerm.term, GlossaryTerm.translations).where(
                GlossaryTerm.project_id == project_id
            )
        )
        return [(row.term, dict(row.translations)) for row in rows]
