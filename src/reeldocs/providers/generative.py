"""What Reeldocs asks a generative model and how it checks the answers.

Prompts, JSON schemas, reading model times, dropping invented screenshots and
moments, and the translation checks live here, in `GenerativeDocsProvider`;
Gemini and the OpenAI-compatible provider subclass it and differ only in how a
request reaches the model.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from functools import partial
from pathlib import PurePosixPath
from typing import Any, TypeVar

from reeldocs.core.languages import LANGUAGE_NAMES, language_name
from reeldocs.docs.references import format_timestamp
from reeldocs.providers.base import (
    NO_TERMS,
    Chapter,
    Document,
    ProviderError,
    Scene,
    Section,
    Segment,
    Terminology,
    TransientProviderError,
)
from reeldocs.providers.markdown_text import check_translation, translatable_runs
from reeldocs.providers.retry import RetryPolicy, StopCheck, call_with_retry
from reeldocs.providers.terminology import missing_term, terms_to_name

T = TypeVar("T")

# --- times and references -----------------------------------------------------------

_CLOCK_TIME = re.compile(r"^(?:(\d+):)?(\d{1,3}):(\d{1,2}(?:[.,]\d+)?)$")
VIDEO_REFERENCE = re.compile(r"\[video:\s*([0-9:.]+)\s*\]")
IMAGE_REFERENCE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def parse_model_time(value: object) -> float | None:
    """Seconds from 75.5, "75.5", "75.5s", "01:15", "1:01:15" or "[01:15]"; None if unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().strip("[]()").strip().removesuffix("s")
        clock = _CLOCK_TIME.match(text)
        if clock:
            hours, minutes, secs = clock.groups()
            if float(secs.replace(",", ".")) >= 60 or (hours and int(minutes) >= 60):
                return None
            seconds = int(hours or 0) * 3600 + int(minutes) * 60 + float(secs.replace(",", "."))
        else:
            try:
                seconds = float(text)
            except ValueError:
                return None
    else:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def normalise_video_references(markdown: str, last_moment: float) -> str:
    """Rewrite references as [video:MM:SS]; drop ones that point past the end of the video."""

    def rewrite(match: re.Match[str]) -> str:
        seconds = parse_model_time(match.group(1))
        if seconds is None or seconds > last_moment + 1:
            return ""
        return f"[video:{format_timestamp(seconds)}]"

    return VIDEO_REFERENCE.sub(rewrite, markdown)


def keep_known_images(markdown: str, screenshot_names: set[str]) -> str:
    """Keep `![…](screenshots/<name>)` images whose name exists; models invent file names."""

    def rewrite(match: re.Match[str]) -> str:
        alt, target = match.groups()
        path = PurePosixPath(target)
        if path.name in screenshot_names and str(path.parent) in {".", "screenshots"}:
            return f"![{alt}](screenshots/{path.name})"
        return ""

    return IMAGE_REFERENCE.sub(rewrite, markdown)


def screenshot_names(scenes: list[Scene]) -> list[str]:
    return [PurePosixPath(scene.screenshot).name for scene in scenes if scene.screenshot]


# --- what models answer ------------------------------------------------------------


class UnusableTranslation(TransientProviderError):
    """A translation that failed Reeldocs' checks; another sample of the model may pass."""


class ResponseShapeError(Exception):
    """The model answered, but not in the shape asked for; asking again usually works."""


def loads_model_json(text: str) -> Any:
    stripped = text.strip()
    # some servers wrap JSON in a Markdown fence even in JSON mode
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", stripped, flags=re.DOTALL)
    if fenced:
        stripped = fenced.group(1)
    if not stripped:
        raise ResponseShapeError("the answer was empty")
    try:
        return json.loads(stripped)
    except json.JSONDecodeError as error:
        raise ResponseShapeError(f"the answer was not valid JSON ({error.msg})") from error


def _field(payload: object, key: str, kind: type[T]) -> T:
    if not isinstance(payload, dict) or not isinstance(payload.get(key), kind):
        raise ResponseShapeError(f"the answer has no {kind.__name__} field {key!r}")
    return payload[key]  # type: ignore[no-any-return]


def segments_from_payload(payload: object, duration: float) -> list[Segment]:
    """Segments ordered, inside the video and not overlapping; unusable items are dropped."""
    items = _field(payload, "segments", list)
    limit = duration if duration > 0 else math.inf
    drafts: list[tuple[float, float | None, str, str]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        start = parse_model_time(item.get("start_time"))
        spoken = str(item.get("spoken_content") or "").strip()
        visual = str(item.get("visual_context") or "").strip()
        # a second of slack: models round the last segment's times up
        if start is None or start > limit + 1 or not (spoken or visual):
            continue
        drafts.append((min(start, limit), parse_model_time(item.get("end_time")), spoken, visual))
    drafts.sort(key=lambda draft: draft[0])
    segments: list[Segment] = []
    for index, (start, end, spoken, visual) in enumerate(drafts):
        next_start = drafts[index + 1][0] if index + 1 < len(drafts) else limit
        if end is None or end <= start:
            end = next_start if math.isfinite(next_start) and next_start > start else start + 5
        end = min(end, limit, next_start if next_start > start else end)
        if end - start >= 0.05:
            segments.append(Segment(start, end, spoken, visual))
    if items and not segments:
        raise ResponseShapeError("none of its segments had usable times inside the video")
    return segments


def language_from_payload(payload: object) -> str | None:
    code = payload.get("language") if isinstance(payload, dict) else None
    if not isinstance(code, str):
        return None
    code = code.strip().lower().replace("_", "-").split("-")[0]
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def document_from_payload(payload: object, screenshots: set[str], last_moment: float) -> Document:
    chapters: list[Chapter] = []
    previous_start = 0.0
    for raw_chapter in _field(payload, "chapters", list):
        if not isinstance(raw_chapter, dict):
            continue
        sections: list[Section] = []
        for raw_section in raw_chapter.get("sections") or []:
            if not isinstance(raw_section, dict):
                continue
            markdown = str(raw_section.get("markdown") or "")
            markdown = keep_known_images(
                normalise_video_references(markdown, last_moment), screenshots
            ).strip()
            if markdown:
                sections.append(Section(str(raw_section.get("title") or "").strip(), markdown))
        if not sections:
            continue
        # a chapter starts at the first moment it points to; chapters follow the video
        moments = [
            parse_model_time(m) for s in sections for m in VIDEO_REFERENCE.findall(s.markdown)
        ]
        start = max(previous_start, min((m for m in moments if m is not None), default=0.0))
        title = str(raw_chapter.get("title") or "").strip() or sections[0].title
        chapters.append(Chapter(title, sections, start_time=start))
        previous_start = start
    if not chapters:
        raise ResponseShapeError("it contained no chapter with any text")
    title = str(payload.get("title") or "").strip() if isinstance(payload, dict) else ""
    return Document(title or chapters[0].title, chapters)


# --- prompts and schemas -----------------------------------------------------------

_TIME_DESCRIPTION = "Time from the start of the video as MM:SS (H:MM:SS past an hour)."


def understanding_schema(ask_language: bool) -> dict[str, Any]:
    text = {"type": "string"}
    segment = {
        "type": "object",
        "properties": {
            "start_time": {"type": "string", "description": _TIME_DESCRIPTION},
            "end_time": {"type": "string", "description": _TIME_DESCRIPTION},
            "spoken_content": {**text, "description": "The words spoken, verbatim."},
            "visual_context": {**text, "description": "What the screen shows."},
        },
        "required": ["start_time", "end_time", "spoken_content", "visual_context"],
    }
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {"segments": {"type": "array", "items": segment}},
        "required": ["segments"],
    }
    if ask_language:
        schema["properties"] = {
            "language": {**text, "description": "ISO 639-1 code of the spoken language."},
            **schema["properties"],
        }
        schema["required"] = ["language", "segments"]
    return schema


DOCUMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "chapters": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "sections": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "title": {"type": "string"},
                                "markdown": {"type": "string"},
                            },
                            "required": ["title", "markdown"],
                        },
                    },
                },
                "required": ["title", "sections"],
            },
        },
    },
    "required": ["title", "chapters"],
}

MARKDOWN_TRANSLATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"markdown": {"type": "string"}},
    "required": ["markdown"],
}


def lines_translation_schema(count: int) -> dict[str, Any]:
    lines = {"type": "array", "items": {"type": "string"}, "minItems": count, "maxItems": count}
    return {"type": "object", "properties": {"lines": lines}, "required": ["lines"]}


def understanding_prompt(duration: float, source_language: str | None) -> str:
    if source_language is None:
        language = (
            'Also give "language": the ISO 639-1 code of the main spoken language '
            '(for example "en" or "es").'
        )
    else:
        language = f"The speech is in {language_name(source_language)}."
    known_length = duration > 0 and math.isfinite(duration)
    length = f", {format_timestamp(duration)} long" if known_length else ""
    bounds = f", between 00:00 and {format_timestamp(duration)}" if known_length else ""
    return f"""This is a product or tutorial video{length}.
Watch and listen to all of it and split it into consecutive segments that follow the speech,
a few sentences each (usually 5 to 30 seconds). For every segment give:
- start_time and end_time: as MM:SS from the start of the video{bounds};
- spoken_content: the exact words spoken, in the language they are spoken in (do not translate);
- visual_context: a short description of what the screen shows (interface, slides, on-screen text).
A stretch with no speech gets an empty spoken_content and a visual_context.
Report only what is said and shown; add nothing.
{language}
Answer with JSON:
{{"segments": [{{"start_time", "end_time", "spoken_content", "visual_context"}}]}}."""


def writer_prompt(
    segments: list[Segment], scenes: list[Scene], language: str, source_language: str
) -> str:
    target, spoken = language_name(language), language_name(source_language)
    last = format_timestamp(max(segment.end_time for segment in segments))
    transcript = "\n".join(
        f"[{format_timestamp(s.start_time)}-{format_timestamp(s.end_time)}] "
        f"said: {json.dumps(s.spoken_content, ensure_ascii=False)}; "
        f"shown: {json.dumps(s.visual_context, ensure_ascii=False)}"
        for s in segments
    )
    shots = [
        f"- screenshots/{PurePosixPath(scene.screenshot).name} "
        f"(from {format_timestamp(scene.start)} to {format_timestamp(scene.end)})"
        + (f", on screen: {json.dumps(scene.text, ensure_ascii=False)}" if scene.text else "")
        for scene in scenes
        if scene.screenshot
    ]
    images = (
        "These screenshots exist; where one helps, include it as "
        "![short description](screenshots/NAME) using only these names:\n" + "\n".join(shots)
        if shots
        else "There are no screenshots: include no images."
    )
    return f"""Write the documentation for a product or tutorial video, in {target}.
Below is what the video says (in {spoken}) and shows, as timestamped segments.

Rules:
- Use only what is said or shown in the segments. Add no features, steps, settings, names,
  numbers or advice the video does not contain; leave out what is unclear.
- Write everything in {target}, titles included.
- Follow the video's order. Group it into chapters, each with one or more sections. A section is
  a short article in Markdown (paragraphs, numbered steps, lists) without a top-level heading.
- Point to the moment of the video where something is shown with [video:MM:SS], for example
  [video:01:05]. Only use times between 00:00 and {last}.
- {images}

Answer with JSON: {{"title", "chapters": [{{"title", "sections": [{{"title", "markdown"}}]}}]}}.

Segments:
{transcript}"""


_KEEP_RULES = """Keep byte for byte: the Markdown structure (headings, list markers, tables,
blank lines, indentation), [video:MM:SS] references, code blocks and inline code, URLs, e-mail
addresses, link targets, image paths and HTML tags. Translate only the text people read,
including link texts and image descriptions."""


def terms_rules(kept: list[str], forced: dict[str, str]) -> str:
    """Prompt lines naming the labels and terms to keep and the glossary's translations."""
    rules: list[str] = []
    if kept:
        names = ", ".join(_quoted(term) for term in kept)
        rules.append(
            "These names and interface labels stay exactly as written, untranslated, with "
            f"their quotes or ** marks: {names}."
        )
    if forced:
        pairs = "; ".join(
            f"{_quoted(term)} → {_quoted(translation)}" for term, translation in forced.items()
        )
        rules.append(f"Translate these terms exactly as the project's glossary says: {pairs}.")
    return "".join(f"\n{rule}" for rule in rules)


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def markdown_translation_prompt(
    markdown: str,
    source: str,
    target: str,
    kept: list[str] | None = None,
    forced: dict[str, str] | None = None,
) -> str:
    return f"""Translate this Markdown document from {language_name(source)} into \
{language_name(target)}.
{_KEEP_RULES}{terms_rules(kept or [], forced or {})}
Answer with JSON: {{"markdown": "<the whole translated document>"}}.

Document:
{markdown}"""


def lines_translation_prompt(
    lines: list[str],
    source: str,
    target: str,
    kept: list[str] | None = None,
    forced: dict[str, str] | None = None,
) -> str:
    return f"""Translate these {len(lines)} subtitle lines from {language_name(source)} into \
{language_name(target)}, one for one: never merge, split, drop or reorder lines, and keep
[video:MM:SS] references, URLs, e-mail addresses and code as they are. An empty line stays \
empty.{terms_rules(kept or [], forced or {})}
Answer with JSON: {{"lines": [exactly {len(lines)} translated strings, in the same order]}}.

Lines (a JSON array):
{json.dumps(lines, ensure_ascii=False)}"""


# --- the shared provider -----------------------------------------------------------

LINES_PER_REQUEST = 100  # long cue lists drift in length more often; batches stay reliable


class GenerativeDocsProvider:
    """Writer and Translator on top of one JSON-answering model call per request.

    Subclasses implement `_generate_json` (one attempt, errors already mapped to
    ProviderError / TransientProviderError); this class retries, parses and checks.
    """

    name = "generative"
    label = "The model"  # how error messages name the service

    def __init__(self, retry: RetryPolicy, should_stop: StopCheck | None) -> None:
        self._retry = retry
        self._should_stop = should_stop

    def _generate_json(self, prompt: str, schema: dict[str, Any], what: str) -> Any:
        raise NotImplementedError

    def languages(self) -> list[str]:
        return list(LANGUAGE_NAMES)

    def targets(self, source_language: str) -> list[str]:
        return [code for code in LANGUAGE_NAMES if code != source_language]

    def _with_retry(self, call: Callable[[], T], should_stop: StopCheck | None = None) -> T:
        return call_with_retry(call, self._retry, should_stop=should_stop or self._should_stop)

    def _unreadable(self, error: ResponseShapeError) -> TransientProviderError:
        return TransientProviderError(
            f"{self.label} returned a response Reeldocs could not read: {error}."
        )

    def write(
        self, segments: list[Segment], scenes: list[Scene], language: str, source_language: str
    ) -> Document:
        if not segments:
            raise ProviderError(
                "The video has no speech or visible content to write documentation from."
            )
        names = set(screenshot_names(scenes))
        last_moment = max([s.end_time for s in segments] + [s.end for s in scenes])
        prompt = writer_prompt(segments, scenes, language, source_language)
        what = f"writing the {language_name(language)} documentation"

        def attempt() -> Document:
            payload = self._generate_json(prompt, DOCUMENT_SCHEMA, what)
            try:
                return document_from_payload(payload, names, last_moment)
            except ResponseShapeError as error:
                raise self._unreadable(error) from error

        return self._with_retry(attempt)

    def translate_markdown(
        self, markdown: str, source: str, target: str, *, terms: Terminology = NO_TERMS
    ) -> str:
        if not markdown.strip() or source == target:
            return markdown
        kept, forced = terms_to_name(translatable_runs(markdown), terms)
        prompt = markdown_translation_prompt(markdown, source, target, kept, forced)
        what = f"translating the documentation into {language_name(target)}"

        def attempt() -> str:
            payload = self._generate_json(prompt, MARKDOWN_TRANSLATION_SCHEMA, what)
            try:
                translated = _same_edges(markdown, _field(payload, "markdown", str))
            except ResponseShapeError as error:
                raise self._unreadable(error) from error
            problem = check_translation(markdown, translated, terms)
            if problem:
                raise UnusableTranslation(
                    f"The {language_name(target)} translation from {self.label} was not "
                    f"usable. {problem}"
                )
            return translated

        return self._retrying_unusable(attempt)

    def _retrying_unusable(self, attempt: Callable[[], T]) -> T:
        try:
            return self._with_retry(attempt)
        except ProviderError as error:
            if error.transient and isinstance(error.__cause__, UnusableTranslation):
                # The model answered every time and broke the text every time: a retry
                # of the step would only repeat the same calls, so stop here.
                raise ProviderError(error.message) from error.__cause__
            raise

    def translate_documents(
        self, markdowns: list[str], source: str, target: str, *, terms: Terminology = NO_TERMS
    ) -> list[str]:
        # One request per document: a model's answer has a length limit.
        return [
            self.translate_markdown(markdown, source, target, terms=terms) for markdown in markdowns
        ]

    def translate_lines(
        self, lines: list[str], source: str, target: str, *, terms: Terminology = NO_TERMS
    ) -> list[str]:
        if source == target:
            return list(lines)
        translated: list[str] = []
        for first in range(0, len(lines), LINES_PER_REQUEST):
            batch = lines[first : first + LINES_PER_REQUEST]
            translated.extend(
                self._retrying_unusable(
                    partial(self._translate_batch, batch, source, target, terms)
                )
            )
        return translated

    def _translate_batch(
        self, lines: list[str], source: str, target: str, terms: Terminology
    ) -> list[str]:
        what = f"translating subtitles into {language_name(target)}"
        kept, forced = terms_to_name(lines, terms)
        payload = self._generate_json(
            lines_translation_prompt(lines, source, target, kept, forced),
            lines_translation_schema(len(lines)),
            what,
        )
        try:
            answer = payload if isinstance(payload, list) else _field(payload, "lines", list)
            if len(answer) != len(lines):
                raise ResponseShapeError(
                    f"it gave {len(answer)} subtitle lines for the {len(lines)} it was sent"
                )
            if not all(isinstance(line, str) for line in answer):
                raise ResponseShapeError("its subtitle lines were not all strings")
        except ResponseShapeError as error:
            raise self._unreadable(error) from error
        translated = [
            "" if not line.strip() else out.strip() for line, out in zip(lines, answer, strict=True)
        ]
        for line, out in zip(lines, translated, strict=True):
            problem = missing_term([line], [out], terms)
            if problem:
                raise UnusableTranslation(
                    f"The {language_name(target)} subtitles from {self.label} were not usable. "
                    f"{problem}"
                )
        return translated


def _same_edges(source: str, translated: str) -> str:
    """Give the translation the source's leading and trailing blank lines, which models trim."""
    head = source[: len(source) - len(source.lstrip("\n"))]
    tail = source[len(source.rstrip("\n")) :]
    return head + translated.strip("\n") + tail
