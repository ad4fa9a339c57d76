"""The offline writer: turns recognised speech and detected scenes into chapters and articles.

It writes nothing the video does not say or show. Speech is cleaned into sentences
(fillers, repeated words and recogniser markup dropped, capitals and full stops added),
sentences are gathered into paragraphs that each point at their moment of the video, and
scenes are gathered into chapters: short or silent scenes join the neighbour they share
most vocabulary with, so a chapter has enough to read and the video gets a few chapters
rather than one per cut. Titles come from on-screen text when a scene has some, else from
the words the chapter uses most. The same input always gives the same document.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from reeldocs.docs.references import format_timestamp, video_reference
from reeldocs.docs.subtitles import readable_word
from reeldocs.providers.base import Chapter, Document, ProviderError, Scene, Section, Segment

MIN_CHAPTER_WORDS = 40  # a chapter with less speech than this joins a neighbour
MIN_SECTION_WORDS = 30
MIN_SILENT_CHAPTER_SECONDS = 3.0  # without speech, only flashes shorter than this are merged
SECONDS_PER_CHAPTER = 75.0  # at most one chapter per this much video (but at least two)
PARAGRAPH_WORDS = 45
PARAGRAPH_PAUSE_SECONDS = 3.0
SENTENCE_PAUSE_SECONDS = 0.7  # a pause this long between timed words ends a sentence
MAX_SENTENCE_WORDS = 30
NO_SPEECH_NOTE = (
    "No speech was recognised in this video, so this document describes what appears on "
    "screen: each part below shows a scene, with its time in the video."
)

# Words too common to say what a chapter is about, including the verbs of spoken tutorials.
_STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't cannot could couldn't did didn't do
    does doesn't doing don't down during each few for from further get gets getting go goes
    going gonna got had hadn't has hasn't have haven't having he her here hers herself him
    himself his how i i'd i'll i'm i've if in into is isn't it it's its itself just know let
    let's like look looks make makes me more most much must my myself need needs no nor not now
    of off okay ok on once one only or other our ours ourselves out over own really right same
    see she should so some something such sure than that that's the their theirs them
    themselves then there there's these they they're thing things this those through to too
    under until up us use used using very want wanna was wasn't way we we'll we're we've well
    were weren't what what's when where which while who whom why will with won't would yeah yes
    you you'd you'll you're you've your yours yourself yourselves also actually basically""".split()
)
_CONJUNCTIONS = {"and", "so", "but", "then", "because", "which", "where", "when"}
_DISCOURSE_ONLY = {"ok", "okay", "so", "right", "yeah", "yes", "well", "alright", "now", "and"}
_TERMINAL = re.compile(r"[.!?…][\"')\]]*$")
_PRONOUN_I = re.compile(r"^i(?:'(?:m|ve|ll|d|s))?$")


@dataclass(frozen=True)
class _Sentence:
    text: str
    start: float
    end: float

    @property
    def word_count(self) -> int:
        return len(self.text.split())


@dataclass
class _Part:
    """One scene and the sentences spoken while it is on screen."""

    scene: Scene
    sentences: list[_Sentence] = field(default_factory=list)

    @property
    def words(self) -> int:
        return sum(sentence.word_count for sentence in self.sentences)

    @property
    def duration(self) -> float:
        return max(self.scene.end - self.scene.start, 0.0)


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
        sentences = _sentences_of(segments)
        parts = _parts(sentences, _usable_scenes(scenes, segments))
        has_speech = bool(sentences)
        groups = _group_into_chapters(parts, has_speech)
        chapter_counts = [keyword_counts(_speech_of(group)) for group in groups]
        document_counts: Counter[str] = sum(chapter_counts, Counter())
        used_titles: set[str] = set()
        chapters: list[Chapter] = []
        for number, group in enumerate(groups, start=1):
            title = _unique(
                _screen_title(group[:1])
                or keyword_title(chapter_counts[number - 1], chapter_counts)
                or _screen_title(group[1:])
                or f"Part {number}",
                used_titles,
            )
            sections = _sections(group, title, chapter_counts, has_speech)
            if not has_speech and number == 1:
                sections[0].markdown = f"{NO_SPEECH_NOTE}\n\n{sections[0].markdown}"
            chapters.append(Chapter(title, sections, start_time=group[0].scene.start))
        document_title = (
            _screen_title(parts[:1])
            or keyword_title(document_counts, [document_counts], limit=3)
            or "Video walkthrough"
        )
        return Document(document_title, chapters)


# --- speech to sentences ---------------------------------------------------------------


def _sentences_of(segments: list[Segment]) -> list[_Sentence]:
    sentences: list[_Sentence] = []
    for segment in sorted(segments, key=lambda s: (s.start_time, s.end_time)):
        for words in _sentence_words(segment):
            sentence = _format_sentence(words)
            if sentence is None:
                continue
            if sentences and sentences[-1].text.casefold() == sentence.text.casefold():
                continue  # a phrase said twice in a row is written once
            sentences.append(sentence)
    return sentences


def _sentence_words(segment: Segment) -> list[list[tuple[str, float, float]]]:
    """The segment's words cut into sentences, each word with its (start, end)."""
    timed = bool(segment.words)
    if timed:
        raw = [(w.text, w.start, w.end) for w in segment.words]
    else:
        tokens = segment.spoken_content.split()
        share = max(segment.end_time - segment.start_time, 0.0) / max(len(tokens), 1)
        raw = [
            (token, segment.start_time + i * share, segment.start_time + (i + 1) * share)
            for i, token in enumerate(tokens)
        ]
    words = [(readable_word(text), start, end) for text, start, end in raw]
    words = [w for w in words if w[0]]

    sentences: list[list[tuple[str, float, float]]] = []
    current: list[tuple[str, float, float]] = []
    for word in words:
        if current and timed and word[1] - current[-1][2] >= SENTENCE_PAUSE_SECONDS:
            sentences.append(current)
            current = []
        current.append(word)
        if _TERMINAL.search(word[0]):
            sentences.append(current)
            current = []
        elif len(current) >= MAX_SENTENCE_WORDS:
            cut = _conjunction_cut(current)
            sentences.append(current[:cut])
            current = current[cut:]
    if current:
        sentences.append(current)
    return [_without_repeats(sentence) for sentence in sentences]


def _without_repeats(
    words: list[tuple[str, float, float]],
) -> list[tuple[str, float, float]]:
    """Drop stutters: a word or a pair of words said again right away ("the the")."""
    result: list[tuple[str, float, float]] = []
    for word in words:
        result.append(word)
        for size in (1, 2):
            if len(result) >= 2 * size and [_plain(w[0]) for w in result[-size:]] == [
                _plain(w[0]) for w in result[-2 * size : -size]
            ]:
                del result[-size:]
                break
    return result


def _conjunction_cut(words: list[tuple[str, float, float]]) -> int:
    """Where to end an over-long unpunctuated sentence: before its last conjunction."""
    for index in range(len(words) - 1, 8, -1):
        if _plain(words[index][0]) in _CONJUNCTIONS:
            return index
    return len(words)


def _format_sentence(words: list[tuple[str, float, float]]) -> _Sentence | None:
    tokens = [text for text, _, _ in words]
    if not tokens:
        return None
    if len(tokens) == 1 and _plain(tokens[0]) in _DISCOURSE_ONLY:
        return None
    tokens = [
        token[0].upper() + token[1:] if _PRONOUN_I.match(token.lower()) else token
        for token in tokens
    ]
    text = " ".join(tokens)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = text[0].upper() + text[1:]
    if not _TERMINAL.search(text):
        text = text.rstrip(",;:-") + "."
    return _Sentence(text, words[0][1], max(words[-1][2], words[0][1]))


def _plain(token: str) -> str:
    return token.strip(".,!?;:\"'()").casefold()


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


def _parts(sentences: list[_Sentence], scenes: list[Scene]) -> list[_Part]:
    parts = [_Part(scene) for scene in scenes]
    for sentence in sentences:
        index = 0
        for candidate, part in enumerate(parts):
            if part.scene.start <= sentence.start + 1e-6:
                index = candidate
        parts[index].sentences.append(sentence)
    return parts


def _group_into_chapters(parts: list[_Part], has_speech: bool) -> list[list[_Part]]:
    """Consecutive parts gathered into chapters (see the module docstring for the rules)."""

    def material(group: list[_Part]) -> float:
        if has_speech:
            return sum(part.words for part in group)
        return sum(part.duration for part in group)

    minimum = MIN_CHAPTER_WORDS if has_speech else MIN_SILENT_CHAPTER_SECONDS
    video_end = max(part.scene.end for part in parts)
    limit = max(2, math.ceil(video_end / SECONDS_PER_CHAPTER))
    groups = [[part] for part in parts]
    vocab = [keyword_counts(_speech_of(group)) for group in groups]

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


_Material = Callable[[list[_Part]], float]


def _merge_partner(
    index: int, groups: list[list[_Part]], vocab: list[Counter[str]], material: _Material
) -> int:
    """The left index of the pair to merge: `index` with its more similar neighbour."""
    if index == 0:
        return 0
    if index == len(groups) - 1:
        return index - 1
    before = (_similarity(vocab[index], vocab[index - 1]), -material(groups[index - 1]), 1)
    after = (_similarity(vocab[index], vocab[index + 1]), -material(groups[index + 1]), 0)
    return index - 1 if before >= after else index


def _balanced_split(parts: list[_Part], material: _Material) -> list[list[_Part]]:
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


def _speech_of(parts: list[_Part]) -> str:
    return " ".join(sentence.text for part in parts for sentence in part.sentences)


# --- titles ----------------------------------------------------------------------------


def keyword_counts(text: str) -> Counter[str]:
    """How often each word that could say what `text` is about occurs in it."""
    words = (word.strip("'-") for word in re.findall(r"[a-z][a-z'-]*", text.casefold()))
    return Counter(
        word.removesuffix("'s")
        for word in words
        if len(word) >= 3 and word not in _STOPWORDS and word.removesuffix("'s") not in _STOPWORDS
    )


def keyword_title(
    counts: Counter[str], corpus: list[Counter[str]], *, limit: int = 3
) -> str | None:
    """'Dashboard, projects and settings' from the words `counts` uses often and the rest of
    `corpus` (the other chapters) uses less; None when no word comes back at least twice."""
    documents = max(len(corpus), 1)

    def score(word: str) -> float:
        frequency = sum(1 for other in corpus if other[word]) or 1
        return counts[word] * (1.0 + math.log(documents / frequency))

    order = {word: position for position, word in enumerate(counts)}
    frequent = [word for word in counts if counts[word] >= 2]
    chosen = sorted(frequent, key=lambda word: (-score(word), order[word]))[:limit]
    if not chosen:
        return None
    phrase = chosen[0] if len(chosen) == 1 else f"{', '.join(chosen[:-1])} and {chosen[-1]}"
    return phrase[0].upper() + phrase[1:]


def _screen_title(parts: list[_Part]) -> str | None:
    """A title from the first on-screen text of these parts: its first readable line."""
    for part in parts:
        for line in part.scene.text.splitlines():
            words = line.split()
            if sum(character.isalpha() for character in line) < 3:
                continue
            title = " ".join(words[:10]).strip(" -–—:;,.|•*#>")
            if len(title) > 70:
                title = title[:70].rsplit(" ", 1)[0]
            if title:
                return title[0].upper() + title[1:]
    return None


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
    group: list[_Part], chapter_title: str, chapter_counts: list[Counter[str]], has_speech: bool
) -> list[Section]:
    units: list[list[_Part]] = []
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
                _screen_title(unit),
                keyword_title(keyword_counts(_speech_of(unit)), chapter_counts, limit=2),
                f"From {format_timestamp(unit[0].scene.start)}",
            )
            fresh = [c for c in candidates if c and c.casefold() not in used]
            title = _unique(fresh[0] if fresh else candidates[-1], used)
        sections.append(Section(title, _section_markdown(unit, has_speech)))
    return sections


def _section_markdown(unit: list[_Part], has_speech: bool) -> str:
    blocks: list[str] = []
    for part in unit:
        scene = part.scene
        if scene.screenshot:
            name = PurePosixPath(scene.screenshot).name
            blocks.append(f"![Scene at {format_timestamp(scene.start)}](screenshots/{name})")
        if part.sentences:
            blocks.extend(_paragraphs(part.sentences))
        elif scene.text.strip():
            lines = (" ".join(line.split()) for line in scene.text.splitlines())
            on_screen = " · ".join(line for line in lines if line)
            blocks.append(f"{video_reference(scene.start)} On screen: {on_screen}")
        elif not has_speech:
            blocks.append(
                f"{video_reference(scene.start)} This scene is on screen from "
                f"{format_timestamp(scene.start)} to {format_timestamp(scene.end)}."
            )
    if not blocks:  # a scene without picture, text or speech still marks its moment
        blocks.append(f"{video_reference(unit[0].scene.start)} Nothing was said here.")
    return "\n\n".join(blocks)


def _paragraphs(sentences: list[_Sentence]) -> list[str]:
    paragraphs: list[list[_Sentence]] = []
    for sentence in sentences:
        if paragraphs:
            current = paragraphs[-1]
            words = sum(s.word_count for s in current)
            pause = sentence.start - current[-1].end
            if words < PARAGRAPH_WORDS and not (pause >= PARAGRAPH_PAUSE_SECONDS and words >= 15):
                current.append(sentence)
                continue
        paragraphs.append([sentence])
    return [
        f"{video_reference(paragraph[0].start)} " + " ".join(s.text for s in paragraph)
        for paragraph in paragraphs
    ]
