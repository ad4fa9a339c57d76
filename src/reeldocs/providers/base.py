"""The three provider interfaces the pipeline talks to.

Understanding turns a video into timestamped segments, writing turns segments
into chapters of Markdown, translating turns a document or subtitle cues into
another language. Each provider is small and stateless between calls, so a
retried step can simply call it again.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class ProviderError(Exception):
    """A provider failed. `transient` errors are worth retrying (timeouts, 429, 5xx)."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient


class TransientProviderError(ProviderError):
    def __init__(self, message: str) -> None:
        super().__init__(message, transient=True)


class Cancelled(Exception):
    """Raised from inside a long step when the job was asked to stop."""


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float


@dataclass
class Segment:
    start_time: float
    end_time: float
    spoken_content: str
    visual_context: str = ""
    words: list[Word] = field(default_factory=list)


@dataclass(frozen=True)
class Scene:
    """A stretch of the video between two cuts; `screenshot` is a storage-relative name."""

    start: float
    end: float
    screenshot: str | None = None
    # On-screen text an OCR engine read with confidence, one line per line, in reading order
    # (the title line included); empty when none was read.
    text: str = ""
    # The slide's title: its top-most large confidently read line; "" when it shows none.
    title: str = ""


@dataclass
class Section:
    title: str
    markdown: str  # may contain [video:MM:SS] references and ![](screenshot) images


@dataclass
class Chapter:
    title: str
    sections: list[Section]
    start_time: float = 0.0


@dataclass
class Document:
    title: str
    chapters: list[Chapter]


@dataclass
class MediaContext:
    """What the pipeline hands to understanding: local files plus what media analysis found."""

    video_path: Path
    audio_path: Path | None
    duration: float
    mime: str
    # The pipeline finds scenes while speech is recognised: then this is a Future.
    scenes: list[Scene] | Future[list[Scene]]
    source_language: str | None
    # called with (seconds_done, seconds_total); raises Cancelled when the job must stop
    progress: Callable[[float, float], None] = lambda done, total: None
    # called with a sentence for the job's step message when the provider does something
    # a user waits for besides hearing the speech ("Downloading the speech model small…")
    notice: Callable[[str], None] = lambda message: None

    def known_scenes(self) -> list[Scene]:
        """The video's scenes, waiting for them if they are still being found.

        Raises whatever stopped the scene analysis (a damaged video, a cancelled job).
        """
        if isinstance(self.scenes, Future):
            return self.scenes.result()
        return self.scenes


@dataclass(frozen=True)
class Terminology:
    """Terms a translation must carry through: `keep` ones come out byte for byte (product
    names, interface labels, glossary terms without a translation); `forced` ones are
    replaced by the glossary's translation for the target language."""

    keep: frozenset[str] = frozenset()
    forced: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.keep or self.forced)


NO_TERMS = Terminology()


class Understanding(Protocol):
    name: str

    def languages(self) -> list[str]:
        """Spoken languages this provider can recognise."""
        ...

    def understand(self, media: MediaContext) -> list[Segment]: ...


class Writer(Protocol):
    name: str

    def languages(self) -> list[str]:
        """Languages it can write docs in directly from the spoken language."""
        ...

    def write(
        self, segments: list[Segment], scenes: list[Scene], language: str, source_language: str
    ) -> Document: ...


class Translator(Protocol):
    name: str

    def targets(self, source_language: str) -> list[str]:
        """Languages it can translate `source_language` into."""
        ...

    def translate_markdown(
        self, markdown: str, source: str, target: str, *, terms: Terminology = NO_TERMS
    ) -> str:
        """Translate text runs only: structure, code and [video:] references stay byte-identical,
        and so do interface labels and `terms.keep`; `terms.forced` come out as given."""
        ...

    def translate_documents(
        self, markdowns: list[str], source: str, target: str, *, terms: Terminology = NO_TERMS
    ) -> list[str]:
        """`translate_markdown` for several documents, one for one; an engine may do them
        together (one Apertium process for all of a video's articles)."""
        ...

    def translate_lines(
        self, lines: list[str], source: str, target: str, *, terms: Terminology = NO_TERMS
    ) -> list[str]:
        """Translate subtitle cue texts one for one (same length and order), carrying terms,
        labels, code, URLs and e-mail addresses through as `translate_markdown` does."""
        ...
