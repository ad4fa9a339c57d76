"""The offline writer: turns recognised speech and detected scenes into chapters and articles.

It writes nothing the video does not say or show, and the same input always gives the
same document. Speech becomes sentences and paragraphs that each point at their moment
of the video (transcript.py). Chapters follow the picture: when scenes show slide titles,
each slide is a chapter named by its title and written as a step-by-step article
(slides.py). Without any on-screen title, chapters come from the speech: short or silent
scenes join the neighbour they share most vocabulary with, so a chapter has enough to
read and the video gets a few chapters rather than one per cut, each titled by the words
it uses most.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from pathlib import PurePosixPath

from reeldocs.docs.references import format_timestamp, video_reference
from reeldocs.providers.base import Chapter, Document, ProviderError, Scene, Section, Segment
from reeldocs.providers.offline.prose import (
    Part,
    Sentence,
    keyword_counts,
    keyword_title,
    paragraphs,
    parts_of,
    sentences_of,
    speech_of,
    summary_line,
    summary_sentence,
    topic_words,
)
from reeldocs.providers.offline.slides import (
    group_by_slide,
    literal_markdown,
    slide_article,
    slide_title,
)

MIN_CHAPTER_WORDS = 40  # a chapter with less speech than this joins a neighbour
MIN_SECTION_WORDS = 30
MIN_SILENT_CHAPTER_SECONDS = 3.0  # without speech, only flashes shorter than this are merged
SECONDS_PER_CHAPTER = 75.0  # at most one chapter per this much video (but at least two)
NO_SPEECH_NOTE = (
    "No speech was recognised in this video, so this document describes what appears on "
    "screen: each part below shows a scene, with its time in the video."
)


class ExtractiveWriter:
    """Writer that needs no model: documents built from the transcript and the scenes."""

    name = "extractive"

    def languages(self) -> list[str]:
        return ["en"]

    def write(
        self, segments: list[Segment], scenes: list[Scene], language: str, source_language: str
    ) -> Document:
        if language not in self.languages():
            raise ProviderError(
                "The offline writer writes documentation in English only; choose English as "
                "the first language, and the others will be translated from it."
            )
        sentences = sentences_of(segments)
        parts = parts_of(sentences, _usable_scenes(scenes, segments))
        has_speech = bool(sentences)
        if any(part.scene.title.strip() for part in parts):
            chapters = _slide_chapters(parts, has_speech)
            document_title = chapters[0].title
        else:
            chapters, document_title = _speech_chapters(parts, has_speech)
        if not has_speech:
            first = chapters[0].sections[0]
            first.markdown = f"{NO_SPEECH_NOTE}\n\n{first.markdown}"
        return Document(document_title, chapters)


def _slide_chapters(parts: list[Part], has_speech: bool) -> list[Chapter]:
    """One chapter per slide, titled exactly as its title was read."""
    chapters: list[Chapter] = []
    for group in group_by_slide(parts):
        title = slide_title(group)
        markdown = slide_article(group, title, has_speech)
        chapters.append(Chapter(title, [Section(title, markdown)], start_time=group[0].scene.start))
    return chapters


def _speech_chapters(parts: list[Part], has_speech: bool) -> tuple[list[Chapter], str]:
    """Chapters cut at pauses and topic shifts in the speech, titled by their words."""
    groups = _group_into_chapters(parts, has_speech)
    chapter_counts = [keyword_counts(speech_of(group)) for group in groups]
    document_counts: Counter[str] = sum(chapter_counts, Counter())
    used_titles: set[str] = set()
    chapters: list[Chapter] = []
    for number, group in enumerate(groups, start=1):
        title = _unique(
            keyword_title(chapter_counts[number - 1], chapter_counts) or f"Part {number}",
            used_titles,
        )
        summary = summary_sentence(
            [s for part in group for s in part.sentences], topic_words(title)
        )
        sections = _sections(group, title, chapter_counts, has_speech, summary)
        if summary is not None:
            sections[0].markdown = f"{summary_line(summary)}\n\n{sections[0].markdown}"
        chapters.append(Chapter(title, sections, start_time=group[0].scene.start))
    document_title = (
        keyword_title(document_counts, [document_counts], limit=3) or "Video walkthrough"
    )
    return chapters, document_title


# --- scenes and chapters ---------------------------------------------------------------


def _usable_scenes(scenes: list[Scene], segments: list[Segment]) -> list[Scene]:
    """Scenes in order; when the video came without any, stretches of speech stand in."""
    ordered = sorted((s for s in scenes if s.end >= s.start), key=lambda s: (s.start, s.end))
    if ordered:
        return ordered
    end = max((s.end_time for s in segments), default=0.0)
    if end <= 0:
        return [Scene(0.0, 0.0)]
    count = max(1, math.ceil(end / SECONDS_PER_CHAPTER))
    return [Scene(end * i / count, end * (i + 1) / count) for i in range(count)]


def _group_into_chapters(parts: list[Part], has_speech: bool) -> list[list[Part]]:
    """Consecutive parts gathered into chapters (see the module docstring for the rules)."""

    def material(group: list[Part]) -> float:
        if has_speech:
            return sum(part.words for part in group)
        return sum(part.duration for part in group)

    minimum = MIN_CHAPTER_WORDS if has_speech else MIN_SILENT_CHAPTER_SECONDS
    video_end = max(part.scene.end for part in parts)
    limit = max(2, math.ceil(video_end / SECONDS_PER_CHAPTER))
    groups = [[part] for part in parts]
    vocab = [keyword_counts(speech_of(group)) for group in groups]

    def merge(left: int) -> None:
        groups[left : left + 2] = [groups[left] + groups[left + 1]]
        vocab[left : left + 2] = [vocab[left] + vocab[left + 1]]

    while len(groups) > 1:
        small = [i for i, group in enumerate(groups) if material(group) < minimum]
        if not small:
            break
        index = min(small, key=lambda i: (material(groups[i]), i))
        merge(_merge_partner(index, groups, vocab, material))
    total = sum(material(group) for group in groups) or 1.0
    while len(groups) > limit:
        best = max(
            range(len(groups) - 1),
            key=lambda i: (
                _similarity(vocab[i], vocab[i + 1])
                - (material(groups[i]) + material(groups[i + 1])) / total,
                -i,
            ),
        )
        merge(best)
    if len(groups) == 1 and len(parts) > 1:
        # Several scenes always make at least two chapters, however little was said.
        groups = _balanced_split(parts, material)
    return groups


_Material = Callable[[list[Part]], float]


def _merge_partner(
    index: int, groups: list[list[Part]], vocab: list[Counter[str]], material: _Material
) -> int:
    """The left index of the pair to merge: `index` with its more similar neighbour."""
    if index == 0:
        return 0
    if index == len(groups) - 1:
        return index - 1
    before = (_similarity(vocab[index], vocab[index - 1]), -material(groups[index - 1]), 1)
    after = (_similarity(vocab[index], vocab[index + 1]), -material(groups[index + 1]), 0)
    return index - 1 if before >= after else index


def _balanced_split(parts: list[Part], material: _Material) -> list[list[Part]]:
    """Two chapters cut at the scene boundary that shares the material most evenly."""
    cut = max(
        range(1, len(parts)),
        key=lambda c: (
            min(material(parts[:c]), material(parts[c:])),
            min(sum(p.duration for p in parts[:c]), sum(p.duration for p in parts[c:])),
            -c,
        ),
    )
    return [parts[:cut], parts[cut:]]


def _similarity(left: Counter[str], right: Counter[str]) -> float:
    shared = sum(left[word] * right[word] for word in left.keys() & right.keys())
    if not shared:
        return 0.0
    norm = math.sqrt(sum(v * v for v in left.values()) * sum(v * v for v in right.values()))
    return shared / norm


# --- titles ----------------------------------------------------------------------------


def _unique(title: str, used: set[str]) -> str:
    candidate = title
    number = 2
    while candidate.casefold() in used:
        candidate = f"{title} ({number})"
        number += 1
    used.add(candidate.casefold())
    return candidate


# --- sections and paragraphs -----------------------------------------------------------


def _sections(
    group: list[Part],
    chapter_title: str,
    chapter_counts: list[Counter[str]],
    has_speech: bool,
    summary: Sentence | None,
) -> list[Section]:
    units: list[list[Part]] = []
    for part in group:
        # a scene with little speech is told together with the scene before it
        if units and has_speech and part.words < MIN_SECTION_WORDS:
            units[-1].append(part)
        else:
            units.append([part])
    if len(units) > 1 and has_speech and sum(p.words for p in units[0]) < MIN_SECTION_WORDS:
        units[1:2] = [units[0] + units[1]]
        del units[0]

    used = {chapter_title.casefold()}
    sections: list[Section] = []
    for unit in units:
        if len(units) == 1:
            title = chapter_title
        else:
            candidates = (
                keyword_title(keyword_counts(speech_of(unit)), chapter_counts, limit=2),
                f"From {format_timestamp(unit[0].scene.start)}",
            )
            fresh = [c for c in candidates if c and c.casefold() not in used]
            title = _unique(fresh[0] if fresh else candidates[-1], used)
        sections.append(Section(title, _section_markdown(unit, has_speech, summary)))
    return sections


def _section_markdown(unit: list[Part], has_speech: bool, summary: Sentence | None) -> str:
    """Each scene's screenshot, then what was said meanwhile (the chapter's summary, written
    above, left out), or what it shows when nothing was said."""
    blocks: list[str] = []
    for part in unit:
        scene = part.scene
        if scene.screenshot:
            name = PurePosixPath(scene.screenshot).name
            blocks.append(f"![Scene at {format_timestamp(scene.start)}](screenshots/{name})")
        sentences = [s for s in part.sentences if s is not summary]
        if sentences:
            blocks.extend(paragraphs(sentences))
        elif part.sentences:
            continue  # all it said is the summary
        elif scene.text.strip():
            lines = (" ".join(line.split()) for line in scene.text.splitlines())
            on_screen = " · ".join(literal_markdown(line) for line in lines if line)
            blocks.append(f"{video_reference(scene.start)} On screen: {on_screen}")
        elif not has_speech:
            blocks.append(
                f"{video_reference(scene.start)} This scene is on screen from "
                f"{format_timestamp(scene.start)} to {format_timestamp(scene.end)}."
            )
    if not blocks:  # a scene without picture, text or speech still marks its moment
        blocks.append(f"{video_reference(unit[0].scene.start)} Nothing was said here.")
    return "\n\n".join(blocks)
