"""Split Markdown into the text a translator may change and the parts it must never touch.

Every translator (Apertium, Gemini, OpenAI-compatible servers) sends only text runs to
its engine and puts the result back between the protected parts, which come out
byte-identical: fenced and inline code, `[video:MM:SS]` references, link and image
addresses (their text is translated), HTML tags and entities, bare URLs and e-mail
addresses, line structure, heading/list/blockquote markers, indentation and table pipes.
Names and interface labels inside the text runs are the translators' to carry through
(`terminology`). `check_translation` then tells whether a translated document kept all of
that and was really translated.

The splitter works line by line with a handful of regular expressions rather than a full
CommonMark parser: it only needs to know what to leave alone, and the concatenation of
its pieces is always exactly the input.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from reeldocs.docs.references import VIDEO_REFERENCE_PATTERN
from reeldocs.providers.base import NO_TERMS, ProviderError, Terminology
from reeldocs.providers.terminology import (
    BARE_URL_PATTERN,
    CODE_SPAN_PATTERN,
    EMAIL_PATTERN,
    Placeholders,
    TextTranslator,
    bold_label_at,
    carry_terms,
    missing_term,
)

PieceKind = Literal["text", "code", "reference", "url", "markup"]


@dataclass(frozen=True)
class MarkdownPiece:
    """A slice of the source. Only `text` pieces are translated; the others stay as they are."""

    text: str
    kind: PieceKind

    @property
    def translatable(self) -> bool:
        return self.kind == "text"


_LINE = re.compile(r"[^\n]*\n|[^\n]+")
_FENCE_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<marker>`{3,}|~{3,})")
_BLANK = re.compile(r"^[ \t]*\r?\n?$")
_INDENTED = re.compile(r"^(?: {4}|\t)")
_LIST_ITEM = re.compile(r"^[ \t]*(?:>[ \t]?)*[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
_CONTAINER_PREFIX = re.compile(
    r"^[ \t]*(?:>[ \t]?)*[ \t]*"
    r"(?:(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?)?"
    r"(?:#{1,6}(?:[ \t]+|$))?"
    r"(?:\[\^[^\]\s]+\]:[ \t]*)?"
)
_HEADING_CLOSE = re.compile(r"[ \t]+#+[ \t]*$")
_LINK_DEFINITION = re.compile(r"^ {0,3}\[(?!\^)[^\]]+\]:[ \t]*\S")
_TABLE_DELIMITER = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_CODE_SPAN = re.compile(CODE_SPAN_PATTERN)
_LINK = re.compile(
    r"(?P<open>!?\[)(?P<label>(?:[^\[\]\\]|\\.)*)"
    r"(?P<close>\]\((?:[^()\s]|\([^()\s]*\))*(?:[ \t]+(?:\"[^\"]*\"|'[^']*'))?[ \t]*\)"
    r"|\]\[[^\]]*\])"
)
_PROTECTED_INLINE = re.compile(
    r"(?P<markup><!--.*?-->"  # HTML comment
    r"|</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>"  # HTML tag
    r"|&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"  # entity
    r"|\[\^[^\]\s]+\])"  # footnote reference
    r"|(?P<url><[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>"  # autolink
    r"|<[^\s<>@]+@[^\s<>@]+>"  # e-mail autolink
    rf"|{BARE_URL_PATTERN}"
    rf"|{EMAIL_PATTERN})"
)
# a run of *, _ or ~~ that opens (text follows) or closes (text precedes) an emphasis
_EMPHASIS_DELIMITER = re.compile(
    r"(?<![\w*_~])(?:\*{1,3}|_{1,3}|~~)(?=[^\s*_~])"
    r"|(?<=[^\s*_~])(?:\*{1,3}|_{1,3}|~~)(?![\w*_~])"
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def split_markdown(markdown: str, *, protect_emphasis: bool = False) -> list[MarkdownPiece]:
    """Pieces whose texts, joined, are exactly `markdown`.

    With `protect_emphasis`, `*`, `_` and `~~` emphasis delimiters are kept out of the runs
    too (cutting a sentence into several runs), for engines that would move or repeat them.
    """
    pieces: list[MarkdownPiece] = []
    lines = _LINE.findall(markdown)
    index = 0
    fence: str | None = None  # the marker that will close the open fence
    in_comment = False
    list_active = False
    previous_blank = True
    previous_indented_code = False
    in_table = False

    if lines and lines[0].rstrip("\r\n") == "---":
        closing = next(
            (i for i in range(1, len(lines)) if lines[i].rstrip("\r\n") in ("---", "...")), None
        )
        if closing is not None:  # front matter is data, not prose
            pieces.append(MarkdownPiece("".join(lines[: closing + 1]), "markup"))
            index = closing + 1

    while index < len(lines):
        line = lines[index]
        content = line.rstrip("\r\n")
        ending = line[len(content) :]
        index += 1

        if fence is not None:
            pieces[-1] = MarkdownPiece(pieces[-1].text + line, "code")
            stripped = content.strip()
            indent = len(content) - len(content.lstrip(" "))
            if indent < 4 and stripped.startswith(fence) and set(stripped) == {fence[0]}:
                fence = None
            continue
        if in_comment:
            pieces.append(MarkdownPiece(line, "markup"))
            in_comment = "-->" not in content
            continue
        opening = _FENCE_OPEN.match(content)
        if opening is not None and not (
            opening.group("marker")[0] == "`" and "`" in content[opening.end() :]
        ):
            fence = opening.group("marker")
            pieces.append(MarkdownPiece(line, "code"))
            previous_blank = False
            list_active = list_active and bool(opening.group("indent"))
            continue
        if _BLANK.match(line):
            pieces.append(MarkdownPiece(line, "markup"))
            previous_blank = True
            in_table = False
            continue
        if content.lstrip().startswith("<!--") and "-->" not in content:
            in_comment = True
            pieces.append(MarkdownPiece(line, "markup"))
            continue
        indented = _INDENTED.match(content) is not None
        if indented and (previous_blank or previous_indented_code) and not list_active:
            pieces.append(MarkdownPiece(line, "code"))
            previous_indented_code = True
            previous_blank = False
            continue
        previous_indented_code = False
        previous_blank = False
        if _LIST_ITEM.match(content):
            list_active = True
        elif not indented:
            list_active = False

        if _LINK_DEFINITION.match(content):
            pieces.append(MarkdownPiece(line, "url"))
            continue
        next_line = lines[index].rstrip("\r\n") if index < len(lines) else ""
        if "|" in content and (
            in_table or ("|" in next_line and _TABLE_DELIMITER.match(next_line) is not None)
        ):
            in_table = True
            if _TABLE_DELIMITER.match(content):
                pieces.append(MarkdownPiece(line, "markup"))
            else:
                pieces.extend(_split_table_row(content, protect_emphasis))
                pieces.append(MarkdownPiece(ending, "markup"))
            continue
        in_table = False
        pieces.extend(_split_block_line(content, protect_emphasis))
        pieces.append(MarkdownPiece(ending, "markup"))
    return _merge_neighbours(pieces)


def translatable_runs(markdown: str, *, protect_emphasis: bool = False) -> list[str]:
    """The text runs a translator receives for `markdown`, in order."""
    pieces = split_markdown(markdown, protect_emphasis=protect_emphasis)
    return [piece.text for piece in pieces if piece.translatable]


def translate_markdown_runs(
    markdown: str,
    translate_texts: Callable[[list[str]], list[str]],
    *,
    protect_emphasis: bool = False,
) -> str:
    """Translate the text runs of `markdown` with one call of `translate_texts`, keep the rest.

    `translate_texts` gets every run (stripped, one line each) and must answer with as many
    strings, in order. Line breaks in an answer become spaces so the document keeps its lines.
    """
    return translate_markdown_documents(
        [markdown], translate_texts, protect_emphasis=protect_emphasis
    )[0]


def translate_markdown_documents(
    markdowns: list[str],
    translate_texts: Callable[[list[str]], list[str]],
    *,
    protect_emphasis: bool = False,
) -> list[str]:
    """`translate_markdown_runs` for several documents with one call of `translate_texts`:
    an engine that starts slowly starts once for all of them."""
    documents = [split_markdown(md, protect_emphasis=protect_emphasis) for md in markdowns]
    runs = [piece.text for pieces in documents for piece in pieces if piece.translatable]
    if not runs:
        return list(markdowns)
    translated = translate_texts(list(runs))
    if len(translated) != len(runs):
        raise ValueError(
            f"The translator returned {len(translated)} pieces of text for {len(runs)}; "
            "the translation cannot be put back into the document."
        )
    answers = iter(translated)
    results: list[str] = []
    for pieces in documents:
        output: list[str] = []
        for piece in pieces:
            if not piece.translatable:
                output.append(piece.text)
                continue
            answer = " ".join(next(answers).split())
            output.append(answer if answer else piece.text)
        results.append("".join(output))
    return results


def translate_text_lines(
    lines: list[str], translate_texts: Callable[[list[str]], list[str]]
) -> list[str]:
    """Subtitle lines one for one: each flattened to one line; blank ones stay blank and
    are not sent to `translate_texts`, which gets the others in one call."""
    flattened = [" ".join(line.split()) for line in lines]
    to_translate = [line for line in flattened if line]
    translated = iter(translate_texts(to_translate) if to_translate else [])
    return [next(translated) if line else "" for line in flattened]


def check_translation(
    source_md: str, translated_md: str, terms: Terminology = NO_TERMS
) -> str | None:
    """A sentence describing what a translation broke, or None when it kept everything.

    Checks, in this order: `[video:]` references, code, link and image addresses, the
    protected stretches of the text (interface labels, `terms`, glossary translations), and
    whether the prose was translated at all (most sentences identical to the source).
    """
    source_pieces = split_markdown(source_md)
    translated_pieces = split_markdown(translated_md)

    source_refs = Counter(m.group(0) for m in VIDEO_REFERENCE_PATTERN.finditer(source_md))
    translated_refs = Counter(m.group(0) for m in VIDEO_REFERENCE_PATTERN.finditer(translated_md))
    missing_refs = source_refs - translated_refs
    if missing_refs:
        reference = next(iter(missing_refs))
        return f"The translation lost or changed the video reference {reference}."
    extra_refs = translated_refs - source_refs
    if extra_refs:
        reference = next(iter(extra_refs))
        return f"The translation has a video reference {reference} that the source does not have."

    source_code = _code_texts(source_pieces)
    translated_code = _code_texts(translated_pieces)
    if source_code != translated_code:
        changed = next(iter((source_code - translated_code) or (translated_code - source_code)))
        excerpt = changed.strip().splitlines()[0][:60] if changed.strip() else changed
        return f"The translation dropped or altered code that must stay as written: {excerpt!r}."

    source_urls = Counter(p.text.strip() for p in source_pieces if p.kind == "url")
    translated_urls = Counter(p.text.strip() for p in translated_pieces if p.kind == "url")
    missing_urls = source_urls - translated_urls
    if missing_urls:
        return (
            "The translation dropped or altered the link or image address "
            f"{next(iter(missing_urls))!r}."
        )

    # Counted in the whole translation: a glossary's translation may hold Markdown of its own.
    problem = missing_term(
        (p.text for p in source_pieces if p.translatable), [translated_md], terms
    )
    if problem is not None:
        return problem

    sentences = _prose_sentences(source_pieces)
    if sentences:
        translated_prose = _normalise(" ".join(p.text for p in translated_pieces if p.translatable))
        unchanged = sum(1 for sentence in sentences if sentence in translated_prose)
        if unchanged * 2 > len(sentences):
            return (
                f"The text was not translated: {unchanged} of {len(sentences)} sentences are "
                "the same as in the source."
            )
    return None


def _split_block_line(content: str, protect_emphasis: bool) -> list[MarkdownPiece]:
    prefix = _CONTAINER_PREFIX.match(content)
    start = prefix.end() if prefix else 0
    pieces = [MarkdownPiece(content[:start], "markup")] if start else []
    body = content[start:]
    closing = ""
    if content[:start].rstrip().endswith("#"):
        heading_close = _HEADING_CLOSE.search(body)
        if heading_close is not None:
            body, closing = body[: heading_close.start()], body[heading_close.start() :]
    if body.endswith("\\"):  # a hard line break, not part of the sentence
        body, closing = body[:-1], "\\" + closing
    pieces.extend(_split_inline(body, protect_emphasis))
    if closing:
        pieces.append(MarkdownPiece(closing, "markup"))
    return pieces


def _split_table_row(content: str, protect_emphasis: bool) -> list[MarkdownPiece]:
    code_ranges = [(m.start(), m.end()) for m in _CODE_SPAN.finditer(content)]
    pieces: list[MarkdownPiece] = []
    cell_start = 0
    for position, character in enumerate(content):
        if character != "|" or (position and content[position - 1] == "\\"):
            continue
        if any(start <= position < end for start, end in code_ranges):
            continue
        pieces.extend(_split_inline(content[cell_start:position], protect_emphasis))
        pieces.append(MarkdownPiece("|", "markup"))
        cell_start = position + 1
    pieces.extend(_split_inline(content[cell_start:], protect_emphasis))
    return pieces


def _split_inline(body: str, protect_emphasis: bool) -> list[MarkdownPiece]:
    """Text and protected pieces of one line's content (no line break inside)."""
    pieces: list[MarkdownPiece] = []
    position = 0
    while position < len(body):
        found = _next_protected(body, position, protect_emphasis)
        if found is None:
            pieces.extend(_text_pieces(body[position:]))
            break
        start, end, protected = found
        pieces.extend(_text_pieces(body[position:start]))
        pieces.extend(protected)
        position = end
    return pieces


def _next_protected(
    body: str, position: int, protect_emphasis: bool
) -> tuple[int, int, list[MarkdownPiece]] | None:
    """The earliest protected construct at or after `position`, as (start, end, pieces)."""
    candidates: list[tuple[int, int, list[MarkdownPiece]]] = []
    code = _CODE_SPAN.search(body, position)
    if code is not None:
        candidates.append((code.start(), code.end(), [MarkdownPiece(code.group(0), "code")]))
    reference = VIDEO_REFERENCE_PATTERN.search(body, position)
    if reference is not None:
        candidates.append(
            (reference.start(), reference.end(), [MarkdownPiece(reference.group(0), "reference")])
        )
    link = _LINK.search(body, position)
    if link is not None:
        inner = _split_inline(link.group("label"), protect_emphasis)
        candidates.append(
            (
                link.start(),
                link.end(),
                [MarkdownPiece(link.group("open"), "markup"), *inner]
                + [MarkdownPiece(link.group("close"), "url")],
            )
        )
    other = _PROTECTED_INLINE.search(body, position)
    if other is not None:
        kind: PieceKind = "url" if other.group("url") else "markup"
        candidates.append((other.start(), other.end(), [MarkdownPiece(other.group(0), kind)]))
    if protect_emphasis:
        emphasis = _EMPHASIS_DELIMITER.search(body, position)
        # A bold interface label stays whole in its run, for the translator to carry as one.
        while emphasis is not None and (label_end := bold_label_at(body, emphasis.start())):
            emphasis = _EMPHASIS_DELIMITER.search(body, label_end)
        if emphasis is not None:
            candidates.append(
                (emphasis.start(), emphasis.end(), [MarkdownPiece(emphasis.group(0), "markup")])
            )
    if not candidates:
        return None
    # earliest first; at the same place the longest wins (a link holding a code span)
    return min(candidates, key=lambda c: (c[0], -c[1]))


def _text_pieces(text: str) -> list[MarkdownPiece]:
    """Split off surrounding whitespace; text without letters is not worth translating."""
    if not text:
        return []
    core = text.strip()
    if not core or not any(character.isalpha() for character in core):
        return [MarkdownPiece(text, "markup")]
    leading = text[: len(text) - len(text.lstrip())]
    trailing = text[len(text.rstrip()) :]
    pieces = [MarkdownPiece(leading, "markup")] if leading else []
    pieces.append(MarkdownPiece(core, "text"))
    if trailing:
        pieces.append(MarkdownPiece(trailing, "markup"))
    return pieces


def _merge_neighbours(pieces: list[MarkdownPiece]) -> list[MarkdownPiece]:
    merged: list[MarkdownPiece] = []
    for piece in pieces:
        if not piece.text:
            continue
        if merged and piece.kind == "markup" and merged[-1].kind == "markup":
            merged[-1] = MarkdownPiece(merged[-1].text + piece.text, "markup")
        else:
            merged.append(piece)
    return merged


def _code_texts(pieces: list[MarkdownPiece]) -> Counter[str]:
    # a fenced block is one piece; trailing blank space is not worth failing a translation for
    return Counter(piece.text.rstrip() for piece in pieces if piece.kind == "code")


def _prose_sentences(pieces: list[MarkdownPiece]) -> list[str]:
    """Normalised source sentences long enough that a translation would change them."""
    sentences: list[str] = []
    for piece in pieces:
        if not piece.translatable:
            continue
        for sentence in _SENTENCE_END.split(piece.text):
            words = [word for word in sentence.split() if any(c.isalpha() for c in word)]
            if len(words) >= 3:
                sentences.append(_normalise(sentence))
    return sentences


def _normalise(text: str) -> str:
    return " ".join(text.casefold().split())


class TextRunTranslator:
    """The Translator methods for an engine that translates plain text runs in batches:
    a subclass says how to translate a batch for a language pair (`_text_translator`) and
    how the engine's input marks a protected stretch of text (`placeholders`)."""

    placeholders: Placeholders

    def _text_translator(self, source: str, target: str) -> TextTranslator:
        raise NotImplementedError

    def _carrying(self, source: str, target: str, terms: Terminology) -> TextTranslator:
        translate = self._text_translator(source, target)
        return lambda texts: carry_terms(texts, terms, translate, self.placeholders)

    def translate_markdown(
        self, markdown: str, source: str, target: str, *, terms: Terminology = NO_TERMS
    ) -> str:
        return self.translate_documents([markdown], source, target, terms=terms)[0]

    def translate_documents(
        self, markdowns: list[str], source: str, target: str, *, terms: Terminology = NO_TERMS
    ) -> list[str]:
        translate = self._carrying(source, target, terms)
        try:
            # Emphasis markers stay out of the runs: engines that translate plain sentences
            # drop, move or space them.
            return translate_markdown_documents(markdowns, translate, protect_emphasis=True)
        except ValueError as error:  # a run count mismatch: nothing sensible to put back
            raise ProviderError(str(error)) from error

    def translate_lines(
        self, lines: list[str], source: str, target: str, *, terms: Terminology = NO_TERMS
    ) -> list[str]:
        try:
            return translate_text_lines(lines, self._carrying(source, target, terms))
        except ValueError as error:
            raise ProviderError(str(error)) from error
