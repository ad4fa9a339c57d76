"""Offline translation with installed Argos Translate packages, run with CTranslate2 directly.

An installed Argos package is a folder (argospm unzips each `.argosmodel` archive into its
packages folder) holding `metadata.json` (`from_code`, `to_code`, `package_version`, ...),
`sentencepiece.model` and `model/`, a CTranslate2 Transformer. The `argostranslate` package
itself is not used: it pulls in torch, stanza and spacy, and fails without a network. This
module needs only `ctranslate2` and `sentencepiece`, and splits sentences itself (a
package's `stanza/` folder is ignored).

Like every translator here, only Markdown text runs reach the model (see `markdown_text`).
Each run is cut into sentences, all sentences of a document go to the model in one batch,
and each run is put back together from its translated sentences.

A protected term inside a run (see `terminology`) reaches the model as one token the model's
vocabulary lacks, in its place in the sentence. The model reads it as unknown; where it writes
an unknown token in its answer, CTranslate2 puts back the source token it attended to most
(`replace_unknowns`), which is the term's mark. A model that drops or repeats the mark gets
that run again in pieces between its terms.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from reeldocs.providers.base import ProviderError
from reeldocs.providers.markdown_text import TextRunTranslator
from reeldocs.providers.registry import language_name
from reeldocs.providers.terminology import Placeholders, TextTranslator

_logger = logging.getLogger(__name__)

PACKAGES_DIR_SETTING = "REELDOCS_ARGOS_PACKAGES_DIR"
# Scripts written without spaces between words: their sentences are joined without one.
_UNSPACED_TARGETS = {"ja", "zh", "zt", "th", "lo", "km", "my"}
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+")
_ABBREVIATION = re.compile(r"(?:^|\s)(?:e\.g|i\.e|vs|mr|mrs|ms|dr|fig)\.$", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[,;:]$")
_MAX_WORDS_PER_SENTENCE = 60  # longer stretches are cut: models are trained on sentences
_BEAM_SIZE = 4  # what Argos Translate itself uses
_LENGTH_PENALTY = 0.2
_MAX_BATCH_SIZE = 32
_WORD_START = "▁"  # how SentencePiece marks a piece that starts a word
_MARK = re.compile(r"⟦(\d+)⟧")

ARGOS_PLACEHOLDERS = Placeholders(
    mark=lambda index: f"⟦{index}⟧",
    pattern=_MARK,
    index_of=lambda match: int(match.group(1)),
)


def default_packages_dir(configured: str | None) -> Path:
    """Where installed packages are looked for: the setting, then where argospm installs."""
    if configured:
        return Path(configured).expanduser()
    argos_own = os.environ.get("ARGOS_PACKAGES_DIR", "").strip()
    if argos_own:
        return Path(argos_own).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME", "").strip() or str(Path.home() / ".local/share")
    return Path(data_home).expanduser() / "argos-translate" / "packages"


def engine_available() -> bool:
    """True when the two libraries that run Argos packages can be imported."""
    try:
        import ctranslate2  # noqa: F401
        import sentencepiece  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class ArgosPackage:
    """An installed package that looked usable when found; its model loads on first use."""

    path: Path
    source: str
    target: str
    version: tuple[int, ...]
    target_prefix: str = ""

    @property
    def description(self) -> str:
        return f"{language_name(self.source)} → {language_name(self.target)} ({self.path})"


def find_packages(packages_dir: Path) -> dict[tuple[str, str], ArgosPackage]:
    """(source, target) → the newest readable package in `packages_dir` for that pair.

    A folder that is not a usable package is skipped with a warning: one broken download
    must not take the other languages away.
    """
    try:
        entries = sorted(packages_dir.iterdir())
    except FileNotFoundError:
        return {}
    except OSError as error:
        _logger.warning(
            "The Argos Translate packages folder %s cannot be read (%s); no Argos model is used.",
            packages_dir,
            error.strerror,
        )
        return {}
    found: dict[tuple[str, str], ArgosPackage] = {}
    for entry in entries:
        if entry.is_file() and entry.suffix == ".argosmodel":
            _logger.warning(
                "%s is a packed Argos Translate package: install it with "
                "`argospm install --from-path` or unzip it into %s to use it.",
                entry,
                packages_dir,
            )
            continue
        if not entry.is_dir():
            continue
        try:
            package = _read_package(entry)
        except _UnusablePackage as unusable:
            _logger.warning(
                "Skipping the Argos Translate package in %s: %s. Reinstall it with argospm "
                "or remove that folder.",
                entry,
                unusable,
            )
            continue
        if package is None:
            continue
        pair = (package.source, package.target)
        if pair not in found or package.version > found[pair].version:
            found[pair] = package
    return found


class _UnusablePackage(Exception):
    """Why a folder in the packages folder cannot be used (a clause, for the log)."""


def _read_package(folder: Path) -> ArgosPackage | None:
    """The package in `folder`; None for helper packages that translate nothing."""
    metadata_path = folder / "metadata.json"
    try:
        metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _UnusablePackage("it has no metadata.json") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _UnusablePackage(f"its metadata.json cannot be read ({error})") from error
    if not isinstance(metadata, dict):
        raise _UnusablePackage("its metadata.json is not a JSON object")
    if metadata.get("type", "translate") != "translate":
        return None  # sentence-boundary and other helper packages: nothing to translate with
    source, target = metadata.get("from_code"), metadata.get("to_code")
    if not (isinstance(source, str) and source and isinstance(target, str) and target):
        raise _UnusablePackage("its metadata.json names no from_code and to_code")
    if not (folder / "sentencepiece.model").is_file():
        raise _UnusablePackage("it has no sentencepiece.model (other tokenizers are not supported)")
    if not (folder / "model" / "model.bin").is_file():
        raise _UnusablePackage("it has no CTranslate2 model (model/model.bin)")
    prefix = metadata.get("target_prefix") or ""
    return ArgosPackage(
        path=folder,
        source=source.strip().lower(),
        target=target.strip().lower(),
        version=_version(metadata.get("package_version")),
        target_prefix=prefix if isinstance(prefix, str) else "",
    )


def _version(value: Any) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", str(value or ""))
    return tuple(int(number) for number in numbers)


class _LoadedModel:
    """A package's tokenizer and CTranslate2 translator, loaded once and kept for the process."""

    def __init__(self, package: ArgosPackage) -> None:
        import ctranslate2
        import sentencepiece

        self.tokenizer = sentencepiece.SentencePieceProcessor(
            model_file=str(package.path / "sentencepiece.model")
        )
        # One batch at a time, using the machine's cores within it; more cores than four
        # barely help a model this size.
        self.translator = ctranslate2.Translator(
            str(package.path / "model"),
            device="cpu",
            compute_type="default",
            inter_threads=1,
            intra_threads=max(1, min(os.cpu_count() or 1, 4)),
        )


# Loaded models by package folder, shared by every translator of the process: loading one
# takes a second or more and about a hundred megabytes, so it happens once.
_LOADED_MODELS: dict[Path, _LoadedModel] = {}
_LOAD_LOCK = threading.Lock()


class ArgosTranslator(TextRunTranslator):
    """Translator running the Argos packages installed in one folder; offers none without any."""

    name = "argos"
    placeholders = ARGOS_PLACEHOLDERS

    def __init__(self, packages_dir: Path, *, configured: bool = False) -> None:
        self.packages_dir = packages_dir
        self._configured = configured  # named by the administrator, so it should exist

    @cached_property
    def packages(self) -> dict[tuple[str, str], ArgosPackage]:
        found = find_packages(self.packages_dir)
        if self._configured and not self.packages_dir.is_dir():
            _logger.warning(
                "%s is set to %s, which is not a folder; no Argos Translate package is used.",
                PACKAGES_DIR_SETTING,
                self.packages_dir,
            )
        if found and not engine_available():
            _logger.warning(
                "Argos Translate packages are installed in %s, but the ctranslate2 and "
                "sentencepiece libraries that run them are not: install them with "
                "`pip install 'reeldocs[argos]'` to translate with those packages.",
                self.packages_dir,
            )
            return {}
        return found

    def targets(self, source_language: str) -> list[str]:
        source = source_language.lower()
        return sorted(target for (src, target) in self.packages if src == source)

    def _text_translator(self, source: str, target: str) -> TextTranslator:
        package = self._package_for(source, target)
        return lambda texts: self._translate(texts, package)

    def _package_for(self, source: str, target: str) -> ArgosPackage:
        package = self.packages.get((source.lower(), target.lower()))
        if package is None:
            available = ", ".join(self.targets(source)) or "none"
            raise ProviderError(
                f"No Argos Translate package for {language_name(source)} → "
                f"{language_name(target)} is installed in {self.packages_dir}. Install one "
                f"with argospm, or pick one of: {available}."
            )
        return package

    def _model(self, package: ArgosPackage) -> _LoadedModel:
        with _LOAD_LOCK:
            model = _LOADED_MODELS.get(package.path)
            if model is None:
                try:
                    model = _LoadedModel(package)
                except (RuntimeError, OSError, ValueError) as error:
                    raise ProviderError(
                        f"The Argos Translate package {package.description} could not be "
                        f"loaded ({_first_line(error)}). Reinstall it with argospm, or remove "
                        "it to translate that language with Apertium where it can."
                    ) from error
                _LOADED_MODELS[package.path] = model
            return model

    def _translate(self, texts: list[str], package: ArgosPackage) -> list[str]:
        """One translation per text; all their sentences go to the model in one batch."""
        if not texts:
            return []
        model = self._model(package)
        sentences_per_text = [split_sentences(text) for text in texts]
        sentences = [sentence for group in sentences_per_text for sentence in group]
        tokenized = [_tokenize(model, sentence) for sentence in sentences]
        longest = max((len(tokens) for tokens in tokenized), default=0)
        prefix = [[package.target_prefix]] * len(tokenized) if package.target_prefix else None
        try:
            results = model.translator.translate_batch(
                tokenized,
                target_prefix=prefix,
                beam_size=_BEAM_SIZE,
                length_penalty=_LENGTH_PENALTY,
                max_batch_size=_MAX_BATCH_SIZE,
                max_decoding_length=min(1024, 2 * longest + 16),
                replace_unknowns=True,
            )
        except (RuntimeError, ValueError) as error:
            raise ProviderError(
                f"The Argos Translate package {package.description} failed while translating "
                f"({_first_line(error)}). Reinstall the package with argospm, or remove it to "
                "translate that language with Apertium where it can."
            ) from error
        translated = iter(_detokenize(result.hypotheses[0], package) for result in results)
        joiner = "" if package.target in _UNSPACED_TARGETS else " "
        return [joiner.join(next(translated) for _ in group) for group in sentences_per_text]


def split_sentences(text: str) -> list[str]:
    """Sentences of one text run, cut after . ! ? … unless an abbreviation or lowercase follows.

    Stretches of more than _MAX_WORDS_PER_SENTENCE words are cut further, after a comma or
    semicolon when there is one, since translation models are trained on single sentences.
    """
    text = " ".join(text.split())
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for boundary in _SENTENCE_END.finditer(text):
        candidate = text[start : boundary.start()]
        following = text[boundary.end() : boundary.end() + 1]
        if following.islower() or _ABBREVIATION.search(candidate):
            continue
        sentences.append(text[start : boundary.end()].strip())
        start = boundary.end()
    sentences.append(text[start:].strip())
    return [piece for sentence in sentences for piece in _cut_long(sentence) if piece]


def _cut_long(sentence: str) -> list[str]:
    words = sentence.split(" ")
    pieces: list[str] = []
    while len(words) > _MAX_WORDS_PER_SENTENCE:
        window = words[:_MAX_WORDS_PER_SENTENCE]
        half = _MAX_WORDS_PER_SENTENCE // 2
        clause_ends = [
            index + 1
            for index, word in enumerate(window[:-1])
            if index >= half and _CLAUSE_END.search(word)
        ]
        cut = clause_ends[-1] if clause_ends else _MAX_WORDS_PER_SENTENCE
        pieces.append(" ".join(words[:cut]))
        words = words[cut:]
    pieces.append(" ".join(words))
    return pieces


def _tokenize(model: _LoadedModel, sentence: str) -> list[str]:
    """The sentence's pieces, each term mark one token of its own (unknown to the model)."""
    tokens: list[str] = []
    position = 0
    for mark in [*_MARK.finditer(sentence), None]:
        text = sentence[position : mark.start() if mark else len(sentence)]
        if text.strip():
            pieces = model.tokenizer.encode(text.strip(), out_type=str)
            if tokens and not text[0].isspace() and pieces:  # glued to the mark before it
                first = pieces[0].removeprefix(_WORD_START)
                pieces = [first, *pieces[1:]] if first else pieces[1:]
            tokens.extend(pieces)
        if mark is None:
            break
        glued = mark.start() > 0 and not sentence[mark.start() - 1].isspace()
        tokens.append(("" if glued else _WORD_START) + mark.group(0))
        position = mark.end()
    return tokens


def _detokenize(tokens: list[str], package: ArgosPackage) -> str:
    if package.target_prefix and tokens and tokens[0] == package.target_prefix:
        tokens = tokens[1:]
    # SentencePiece marks a word start with ▁; joining the pieces this way also keeps pieces
    # the tokenizer's own vocabulary lacks, which its decoder would turn into ⁇.
    return "".join(tokens).replace("▁", " ").strip()


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__
