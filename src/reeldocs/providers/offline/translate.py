"""Offline translation with Apertium (the Debian `apertium` command and its language pairs).

Only text runs go through Apertium: it adds spaces and moves or repeats punctuation (even
`**` around a word), so Markdown structure, emphasis, code and `[video:]` references are
kept aside by `markdown_text` and put back untouched. All runs of a document go to one
`apertium` process, written in Apertium's own stream format (`-f none`): each run ends
with an inserted sentence end `.[]` so that no rule joins words of two runs, followed by
a superblank `[@N]` that Apertium passes through unchanged and that tells which run the
translated text before it belongs to.

Names, interface labels and glossary terms inside a run (see `terminology`) travel as
made-up words such as `Zqxa`, which Apertium does not know and passes through: the sentence
around one is translated as around a name it does not know. Measured on 24 tutorial
sentences with a product name in them, carrying the name in a superblank instead
(`[Acme Uploader]`, invisible to Apertium's rules) changed the words around it in 11: better
agreement in 5 ("la Acme Uploader carta"), but a broken sentence in 2, where the name was the
subject or the place ("Acme Uploader shows…" became "Espectáculos…", a noun; "In Acme Uploader
you can" became "ti puede"). Marks kept the meaning of all 24.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cached_property

from reeldocs.providers.base import NO_TERMS, ProviderError, Terminology, Translator
from reeldocs.providers.markdown_text import TextRunTranslator
from reeldocs.providers.terminology import Placeholders, TextTranslator

# Apertium names languages with ISO 639-3 codes in most pairs and 639-1 in older ones.
_ISO3_TO_ISO1 = {
    "eng": "en", "spa": "es", "cat": "ca", "glg": "gl", "epo": "eo", "fra": "fr",
    "por": "pt", "ita": "it", "deu": "de", "nld": "nl", "ron": "ro", "oci": "oc",
    "eus": "eu", "arg": "an", "ast": "ast", "swe": "sv", "dan": "da", "nob": "nb",
    "nno": "nn", "isl": "is", "pol": "pl", "ces": "cs", "slk": "sk", "hbs": "sh",
    "bul": "bg", "mkd": "mk", "rus": "ru", "ukr": "uk", "bel": "be", "kaz": "kk",
    "tat": "tt", "tur": "tr", "afr": "af", "cym": "cy", "gle": "ga", "bre": "br",
    "mlt": "mt", "ind": "id", "msa": "ms", "hin": "hi", "urd": "ur", "sme": "se",
}  # fmt: skip
_LANGUAGE_NAMES = {
    "en": "English", "es": "Spanish", "ca": "Catalan", "gl": "Galician", "eo": "Esperanto",
    "fr": "French", "pt": "Portuguese", "it": "Italian", "de": "German",
}  # fmt: skip
# Characters with a meaning in Apertium's stream format; `~` is dropped even when escaped,
# so it travels in a superblank instead.
_STREAM_SPECIAL = set("\\[]^$/<>@{}")
_MODE_NAME = re.compile(r"^(?P<source>[a-z]{2,3})-(?P<target>[a-z]{2,3})$")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+(?=[.,;:!?)\]»])")
_SPACE_AFTER_OPENING = re.compile(r"(?<=[(¿¡«\[])\s+")
_WORDS_PER_SECOND_FLOOR = 500  # a generous time limit: Apertium does ~10,000 words/s here
# Marks for protected terms: "Zqx" and letters, a word no Apertium dictionary has.
_MARK_PREFIX = "Zqx"
_MARK = re.compile(r"(?<!\w)zqx([a-z]+)(?!\w)", re.IGNORECASE)
_WORD_AFTER_MARK = re.compile(r"(?<!\w)(zqx[a-z]+)(\s+)(\w)", re.IGNORECASE)


def _mark(index: int) -> str:
    letters = ""
    while True:
        index, digit = divmod(index, 26)
        letters = chr(ord("a") + digit) + letters
        if index == 0:
            return _MARK_PREFIX + letters


def _mark_index(match: re.Match[str]) -> int | None:
    index = 0
    for letter in match.group(1).lower():
        index = index * 26 + ord(letter) - ord("a")
    # "Zqxaa" reads as 0 too, but only "Zqxa" is the mark of span 0
    return index if _mark(index).lower() == match.group(0).lower() else None


APERTIUM_PLACEHOLDERS = Placeholders(mark=_mark, pattern=_MARK, index_of=_mark_index)


class ApertiumTranslator(TextRunTranslator):
    """Translator that runs the installed Apertium pairs; offers nothing when none is installed."""

    name = "apertium"
    placeholders = APERTIUM_PLACEHOLDERS

    def __init__(self, executable: str = "apertium", timeout_seconds: float = 120.0) -> None:
        self._executable = executable
        self._timeout_seconds = timeout_seconds

    def targets(self, source_language: str) -> list[str]:
        source = source_language.lower()
        return sorted({target for (src, target) in self._modes if src == source})

    def _text_translator(self, source: str, target: str) -> TextTranslator:
        mode = self._mode_for(source, target)
        return lambda texts: self._translate(texts, mode)

    @cached_property
    def _modes(self) -> dict[tuple[str, str], str]:
        """(source, target) ISO codes → the Apertium mode that translates between them."""
        executable = shutil.which(self._executable)
        if executable is None:
            return {}
        try:
            listing = subprocess.run(
                [executable, "-l"], capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return {}
        modes: dict[tuple[str, str], str] = {}
        for name in sorted(listing.stdout.split()):
            match = _MODE_NAME.match(name)
            if match is None:  # variants such as eng-cat_valencia or en-eo-bytecode
                continue
            pair = (_iso1(match.group("source")), _iso1(match.group("target")))
            modes.setdefault(pair, name)
        return modes

    def _mode_for(self, source: str, target: str) -> str:
        if shutil.which(self._executable) is None:
            raise ProviderError(
                "Offline translation needs Apertium, which is not installed on this server. "
                "Install the Debian package apertium and a language pair such as "
                "apertium-eng-spa, or choose English only."
            )
        mode = self._modes.get((source.lower(), target.lower()))
        if mode is None:
            raise ProviderError(
                f"Apertium on this server cannot translate {_language_name(source)} into "
                f"{_language_name(target)}. Install that Apertium language pair or pick one "
                f"of: {', '.join(self.targets(source)) or 'none'}."
            )
        return mode

    def _translate(self, texts: list[str], mode: str) -> list[str]:
        if not texts:
            return []
        stream = "".join(
            f"{_escape(' '.join(text.split()))}.[][@{index}]" for index, text in enumerate(texts)
        )
        words = sum(len(text.split()) for text in texts)
        timeout = self._timeout_seconds + words / _WORDS_PER_SECOND_FLOOR
        try:
            completed = subprocess.run(
                [self._executable, "-u", "-f", "none", mode],
                input=stream,
                capture_output=True,
                encoding="utf-8",
                errors="replace",
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as error:  # a busy machine: worth another try
            raise ProviderError(
                f"Apertium took longer than {timeout:.0f} seconds to translate {words} words "
                "and was stopped; try again when the server is less busy.",
                transient=True,
            ) from error
        except OSError as error:
            raise ProviderError(f"Apertium could not be started: {error.strerror}.") from error
        if completed.returncode != 0:
            detail = " ".join(completed.stderr.split())[:300] or "no error message"
            raise ProviderError(
                f"Apertium failed while translating with the {mode} pair ({detail})."
            )
        translated = _parse_stream(completed.stdout, len(texts))
        return [
            _keep_case_after_marks(_match_initial_case(text, source), source)
            for text, source in zip(translated, texts, strict=True)
        ]


def _iso1(code: str) -> str:
    return _ISO3_TO_ISO1.get(code, code)


def _language_name(code: str) -> str:
    return _LANGUAGE_NAMES.get(code.lower(), code)


def _escape(text: str) -> str:
    escaped: list[str] = []
    for character in text:
        if character == "~":
            escaped.append("[~]")
        elif character in _STREAM_SPECIAL:
            escaped.append("\\" + character)
        else:
            escaped.append(character)
    return "".join(escaped)


def _parse_stream(output: str, expected: int) -> list[str]:
    """Cut Apertium's output at the `[@N]` superblanks back into one text per input run."""
    results: list[str] = []
    current: list[str] = []
    position = 0
    while position < len(output):
        character = output[position]
        if character == "\\" and position + 1 < len(output):
            current.append(output[position + 1])
            position += 2
            continue
        if character != "[":
            current.append(character)
            position += 1
            continue
        blank, position = _read_superblank(output, position)
        if blank == f"@{len(results)}":
            results.append(_tidy("".join(current)))
            current = []
        elif blank.startswith("@") and blank[1:].isdigit():
            raise ProviderError(
                "Apertium returned the translated text out of order, so it cannot be put "
                "back into the document."
            )
        elif blank:
            current.append(blank)
        elif current and current[-1] == ".":  # the sentence end this module inserted
            current.pop()
    if len(results) != expected or "".join(current).strip():
        raise ProviderError(
            f"Apertium returned {len(results)} translated pieces for {expected}, so the "
            "translation cannot be put back into the document."
        )
    return results


def _read_superblank(output: str, start: int) -> tuple[str, int]:
    """The unescaped content of the superblank opening at `start`, and where it ends."""
    content: list[str] = []
    position = start + 1
    while position < len(output) and output[position] != "]":
        if output[position] == "\\" and position + 1 < len(output):
            position += 1
        content.append(output[position])
        position += 1
    return "".join(content), position + 1


def _match_initial_case(translated: str, source: str) -> str:
    """Apertium capitalises every run as a sentence start; runs are often mid-sentence."""
    source_initial = next((c for c in source if c.isalpha()), "")
    for index, character in enumerate(translated):
        if character.isalpha():
            if source_initial.islower():
                return translated[:index] + character.lower() + translated[index + 1 :]
            if source_initial.isupper():
                return translated[:index] + character.upper() + translated[index + 1 :]
            return translated
    return translated


def _keep_case_after_marks(translated: str, source: str) -> str:
    """Apertium capitalises the word after an unknown one at a sentence start ("Zqxa is
    great" → "Zqxa Es sumo"): give it a small letter again when the source had one there."""
    lower_after = {
        match.group(1).lower()
        for match in _WORD_AFTER_MARK.finditer(source)
        if match.group(3).islower()
    }

    def restore(match: re.Match[str]) -> str:
        mark, space, initial = match.groups()
        if mark.lower() in lower_after and initial.isupper():
            return mark + space + initial.lower()
        return match.group(0)

    return _WORD_AFTER_MARK.sub(restore, translated)


def _tidy(text: str) -> str:
    """Undo the spacing Apertium adds around punctuation."""
    text = " ".join(text.split())
    text = _SPACE_BEFORE_PUNCTUATION.sub("", text)
    return _SPACE_AFTER_OPENING.sub("", text)


class OfflineTranslator:
    """Several offline engines behind one translator: for each language pair, the first
    engine that covers it translates (Argos packages before Apertium, say).

    `name` joins the engines' names; `engine_for` tells which one translates a given pair,
    so a job can record it per language.
    """

    def __init__(self, engines: list[Translator]) -> None:
        self._engines = engines
        self.name = "+".join(engine.name for engine in engines)

    def targets(self, source_language: str) -> list[str]:
        return sorted({t for engine in self._engines for t in engine.targets(source_language)})

    def engine_for(self, source: str, target: str) -> str | None:
        engine = self._engine(source, target)
        return engine.name if engine is not None else None

    def translate_markdown(
        self, markdown: str, source: str, target: str, *, terms: Terminology = NO_TERMS
    ) -> str:
        engine = self._chosen(source, target)
        return engine.translate_markdown(markdown, source, target, terms=terms)

    def translate_documents(
        self, markdowns: list[str], source: str, target: str, *, terms: Terminology = NO_TERMS
    ) -> list[str]:
        engine = self._chosen(source, target)
        return engine.translate_documents(markdowns, source, target, terms=terms)

    def translate_lines(
        self, lines: list[str], source: str, target: str, *, terms: Terminology = NO_TERMS
    ) -> list[str]:
        return self._chosen(source, target).translate_lines(lines, source, target, terms=terms)

    def _engine(self, source: str, target: str) -> Translator | None:
        return next(
            (engine for engine in self._engines if target.lower() in engine.targets(source)),
            None,
        )

    def _chosen(self, source: str, target: str) -> Translator:
        engine = self._engine(source, target)
        if engine is None:
            available = ", ".join(self.targets(source)) or "none"
            raise ProviderError(
                f"No offline translator on this server can translate {_language_name(source)} "
                f"into {_language_name(target)}. Install an Argos Translate package or an "
                f"Apertium language pair for it, or pick one of: {available}."
            )
        return engine
