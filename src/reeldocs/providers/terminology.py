"""What a translation must carry through unchanged, or translate as a project's glossary says.

Inside the text an engine translates, some stretches must come out exactly as they went in:
- code spans, URLs and e-mail addresses (subtitle lines are not split like Markdown, so
  they can hold them);
- interface labels in quotes, "Open Settings", “Save”, 'Export', and in bold when they start
  with a capital, **Settings**: product documentation marks what the screen shows that way,
  and the screenshots beside the text show those words untranslated;
- the terms of a `Terminology`: product names and glossary terms, matched as written (case
  and all) as whole words. A glossary term with a translation for the target language comes
  out as that translation instead.

`protected_spans` finds them; `carry_terms` takes them through an engine that translates
plain text. Each span becomes a placeholder the engine passes through in place, so the
words around it are still translated as one sentence; where the engine loses or repeats a
placeholder, that text is translated in pieces between the spans instead, which keeps them
at some cost to the grammar. `missing_term` tells whether a translation kept them all, and
`terms_to_name` lists them for a prompt.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from reeldocs.providers.base import NO_TERMS, Terminology

SpanKind = Literal["code", "url", "label", "term", "glossary"]

CODE_SPAN_PATTERN = r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)"
BARE_URL_PATTERN = r"https?://[^\s<>\[\]()]*[^\s<>\[\]().,;:!?'\"]"
EMAIL_PATTERN = (
    r"(?<![\w.+%-])(?:mailto:)?[A-Za-z0-9._%+-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,}(?![\w-])"
)
# `**Label**` or `__Label__`; whether its inside reads as a label is `_is_label`'s call.
BOLD_PATTERN = r"(?<![*_\w])(\*\*|__)(?=\S)([^*_\n]{1,60}?)(?<=\S)\1(?![*_\w])"

_CODE_SPAN = re.compile(CODE_SPAN_PATTERN)
_URL = re.compile(BARE_URL_PATTERN)
_EMAIL = re.compile(EMAIL_PATTERN)
_BOLD = re.compile(BOLD_PATTERN)
# Quotes around a label: the opening one follows a space, a bracket or the start; a
# straight single quote inside a word is an apostrophe, never the end of a label.
_QUOTED = (
    re.compile(r"(?<![\w\"])\"(?=\S)([^\"\n]{1,60}?)(?<=\S)\"(?![\w\"])"),
    re.compile(r"“(?=\S)([^“”\n]{1,60}?)(?<=\S)”"),
    re.compile(r"(?<![\w'’])'(?=\S)([^'\n]{1,60}?)(?<=\S)'(?![\w'’])"),
    re.compile(r"‘(?=\S)([^‘’\n]{1,60}?)(?<=\S)’(?![\w'’])"),
)
_MAX_LABEL_WORDS = 6
# Bold words that open a note rather than name something on screen.
_NOTE_WORDS = frozenset({"note", "tip", "warning", "important", "caution", "example"})
_SENTENCE_INSIDE = re.compile(r"[.!?…]\s")


@dataclass(frozen=True)
class ProtectedSpan:
    """A stretch of a text that a translation must show as `output`."""

    start: int
    end: int
    source: str  # as it stands in the text
    output: str  # the same for everything but glossary terms with a translation
    kind: SpanKind


def protected_spans(text: str, terms: Terminology = NO_TERMS) -> list[ProtectedSpan]:
    """The protected stretches of `text`, in order and not overlapping: where two overlap,
    the one that starts first wins, and at the same start the longer."""
    candidates: list[ProtectedSpan] = []

    def add(match: re.Match[str], kind: SpanKind, output: str | None = None) -> None:
        source = match.group(0)
        candidates.append(ProtectedSpan(match.start(), match.end(), source, output or source, kind))

    for match in _CODE_SPAN.finditer(text):
        add(match, "code")
    for pattern in (_URL, _EMAIL):
        for match in pattern.finditer(text):
            add(match, "url")
    for pattern in _QUOTED:
        for match in pattern.finditer(text):
            if _is_label(match.group(1)):
                add(match, "label")
    for match in _BOLD.finditer(text):
        if _is_bold_label(match.group(2)):
            add(match, "label")
    for start, end, term in _find_terms(text, terms):
        forced = terms.forced.get(term)
        candidates.append(
            ProtectedSpan(start, end, term, forced or term, "glossary" if forced else "term")
        )
    candidates.sort(key=lambda span: (span.start, span.start - span.end))
    chosen: list[ProtectedSpan] = []
    for span in candidates:
        if not chosen or span.start >= chosen[-1].end:
            chosen.append(span)
    return chosen


def bold_label_at(text: str, position: int) -> int | None:
    """Where the bold label opening at `position` ends, or None when none opens there."""
    match = _BOLD.match(text, position)
    if match is None or not _is_bold_label(match.group(2)):
        return None
    return match.end()


def _is_label(inside: str) -> bool:
    """Short, starting with a capital, one phrase: what a button or menu item says."""
    words = inside.split()
    return (
        inside[0].isupper()
        and len(words) <= _MAX_LABEL_WORDS
        and _SENTENCE_INSIDE.search(inside) is None
    )


def _is_bold_label(inside: str) -> bool:
    # "**Note:**" and "**Do not delete it.**" are emphasis, not something on screen.
    return _is_label(inside) and inside[-1] not in ".:!?" and inside.casefold() not in _NOTE_WORDS


def _find_terms(text: str, terms: Terminology) -> Iterator[tuple[int, int, str]]:
    """(start, end, term) of each term in `text`, as whole words, longest first, not
    overlapping. Terms are looked up by the word (or sign) they start with: one pattern
    with hundreds of alternatives would try each of them at every position."""
    index = _index_of(frozenset(term for term in (*terms.keep, *terms.forced) if term.strip()))
    if not index:
        return
    position = 0
    for token in _TOKEN.finditer(text):
        if token.start() < position:
            continue
        for term in index.get(token.group(0), ()):
            end = token.start() + len(term)
            if not text.startswith(term, token.start()):
                continue
            if _WORD_CHARACTER.match(term, len(term) - 1) and _WORD_CHARACTER.match(text, end):
                continue  # the word goes on past the term ("Acme" in "Acmes")
            yield token.start(), end, term
            position = end
            break


_TOKEN = re.compile(r"\w+|[^\w\s]")
_WORD_CHARACTER = re.compile(r"\w")


@lru_cache(maxsize=64)
def _index_of(terms: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """Terms by the word or sign they start with, the longest first."""
    index: dict[str, list[str]] = {}
    for term in terms:
        first = _TOKEN.match(term)
        if first is not None:
            index.setdefault(first.group(0), []).append(term)
    return {key: tuple(sorted(group, key=lambda t: (-len(t), t))) for key, group in index.items()}


# ---- checking a translation ---------------------------------------------------------------


def terms_to_name(texts: Iterable[str], terms: Terminology) -> tuple[list[str], dict[str, str]]:
    """What a prompt should name for these texts: labels and terms to keep as written (in
    order of first appearance), and the glossary's translations of the terms they use.
    Code, URLs and e-mail addresses are left to the prompt's general rules."""
    kept: dict[str, None] = {}
    forced: dict[str, str] = {}
    for text in texts:
        for span in protected_spans(text, terms):
            if span.kind in ("label", "term"):
                kept.setdefault(span.output)
            elif span.kind == "glossary":
                forced.setdefault(span.source, span.output)
    return list(kept), forced


def missing_term(
    sources: Iterable[str], translations: Iterable[str], terms: Terminology
) -> str | None:
    """A sentence naming a protected stretch of `sources` that `translations` dropped or
    changed (or a glossary translation it did not use), or None when all came through."""
    needed: Counter[str] = Counter()
    first_span: dict[str, ProtectedSpan] = {}
    for text in sources:
        for span in protected_spans(text, terms):
            needed[span.output] += 1
            first_span.setdefault(span.output, span)
    translated = "\n".join(translations)
    for output, count in needed.items():
        if count_occurrences(translated, output) >= count:
            continue
        span = first_span[output]
        if span.kind == "glossary":
            return (
                f"The translation does not use the glossary's translation {output!r} for "
                f"{span.source!r}."
            )
        return f"The translation dropped or changed {output!r}, which must stay as written."
    return None


def count_occurrences(text: str, needle: str) -> int:
    """How often `needle` stands in `text` as whole words (where its ends are letters)."""
    before = r"(?<!\w)" if re.match(r"\w", needle) else ""
    after = r"(?!\w)" if re.search(r"\w$", needle) else ""
    return len(re.findall(before + re.escape(needle) + after, text))


# ---- carrying spans through an engine ----------------------------------------------------


@dataclass(frozen=True)
class Placeholders:
    """How an engine's input marks a protected span: `mark(index)` writes the mark for the
    span of that index, `pattern` finds marks in the engine's answer (case-insensitively if
    the engine may change their case), and `index_of` reads a found mark's index from the
    match (None for something that only looks like a mark)."""

    mark: Callable[[int], str]
    pattern: re.Pattern[str]
    index_of: Callable[[re.Match[str]], int | None]


TextTranslator = Callable[[list[str]], list[str]]


def carry_terms(
    texts: list[str], terms: Terminology, translate: TextTranslator, placeholders: Placeholders
) -> list[str]:
    """Translate `texts` one for one with `translate`, every protected span carried through.

    `translate` is called at most twice: once with the texts, their spans replaced by marks,
    and once more with the pieces between the spans of the texts whose marks did not come
    back exactly once each.
    """
    plans = [_Plan(text, protected_spans(text, terms), placeholders) for text in texts]
    marked = [plan for plan in plans if plan.marked is not None]
    answers = iter(_call(translate, [plan.marked or "" for plan in marked]))
    results: list[str | None] = []
    for plan in plans:
        results.append(plan.restore(next(answers)) if plan.marked is not None else plan.direct)
    pending = [index for index, result in enumerate(results) if result is None]
    pieces = [piece for index in pending for piece in plans[index].pieces_to_translate()]
    translated_pieces = iter(_call(translate, pieces))
    for index in pending:
        results[index] = plans[index].assemble(translated_pieces)
    return [result or "" for result in results]


def _call(translate: TextTranslator, texts: list[str]) -> list[str]:
    if not texts:
        return []
    answers = translate(texts)
    if len(answers) != len(texts):
        raise ValueError(
            f"The translator returned {len(answers)} pieces of text for {len(texts)}; "
            "the translation cannot be put back together."
        )
    return answers


class _Plan:
    """One text on its way through the engine: marked, or to be translated in pieces."""

    def __init__(self, text: str, spans: list[ProtectedSpan], placeholders: Placeholders) -> None:
        self.text = text
        self.spans = spans
        self.placeholders = placeholders
        # The text's own pieces between spans, each (leading space, words, trailing space).
        self.gaps = [_split_space(gap) for gap in _gaps(text, spans)]
        self.direct: str | None = None  # the result when no engine is needed
        self.marked: str | None = None  # what the engine gets, when marks can be used
        if not spans:
            self.marked = text
        elif not any(_has_letters(core) for _, core, _ in self.gaps):
            self.direct = self.assemble(iter(()))
        elif placeholders.pattern.search(text) is None:  # else a mark could not be told apart
            self.marked = self._with_marks()

    def _with_marks(self) -> str:
        out: list[str] = []
        position = 0
        for index, span in enumerate(self.spans):
            out.append(self.text[position : span.start])
            out.append(self.placeholders.mark(index))
            position = span.end
        out.append(self.text[position:])
        return "".join(out)

    def restore(self, answer: str) -> str | None:
        """The answer with marks replaced, or None unless each mark came back exactly once."""
        if not self.spans:
            return answer
        marks: list[tuple[re.Match[str], int]] = []
        for match in self.placeholders.pattern.finditer(answer):
            index = self.placeholders.index_of(match)
            if index is None:
                return None
            marks.append((match, index))
        if sorted(index for _, index in marks) != list(range(len(self.spans))):
            return None
        out: list[str] = []
        position = 0
        for match, index in marks:
            out.append(answer[position : match.start()])
            out.append(self.spans[index].output)
            position = match.end()
        out.append(answer[position:])
        return "".join(out)

    def pieces_to_translate(self) -> list[str]:
        return [core for _, core, _ in self.gaps if _has_letters(core)]

    def assemble(self, translated: Iterator[str]) -> str:
        out: list[str] = []
        for index, (leading, core, trailing) in enumerate(self.gaps):
            if _has_letters(core):
                answer = " ".join(next(translated).split())
                core = answer or core
            out.append(leading + core + trailing)
            if index < len(self.spans):
                out.append(self.spans[index].output)
        return "".join(out)


def _gaps(text: str, spans: list[ProtectedSpan]) -> list[str]:
    """The text before, between and after the spans: always one more than spans."""
    gaps: list[str] = []
    position = 0
    for span in spans:
        gaps.append(text[position : span.start])
        position = span.end
    gaps.append(text[position:])
    return gaps


def _split_space(text: str) -> tuple[str, str, str]:
    core = text.strip()
    if not core:
        return text, "", ""
    leading = text[: len(text) - len(text.lstrip())]
    return leading, core, text[len(text.rstrip()) :]


def _has_letters(text: str) -> bool:
    return any(character.isalpha() for character in text)
