"""Speech made readable for the offline writer: sentences, paragraphs and topic words.

Recognisers give either lower-case words without punctuation (older transcripts) or cased,
punctuated words (Whisper); both become sentences here: fillers, repeated words and
recogniser markup dropped, a capital at the start and a full stop at the end where the
recogniser gave none, cut at pauses and at the recogniser's own full stops.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace

from reeldocs.docs.references import video_reference
from reeldocs.docs.subtitles import readable_word
from reeldocs.providers.base import Scene, Segment

PARAGRAPH_WORDS = 45
PARAGRAPH_PAUSE_SECONDS = 3.0
SENTENCE_PAUSE_SECONDS = 0.7  # a pause this long between timed words ends a sentence
MAX_SENTENCE_WORDS = 30
SUMMARY_WORDS = (4, 40)  # a summary sentence has at least and at most this many words

# Words too common to say what a chapter is about, including the verbs of spoken tutorials.
STOPWORDS = frozenset(
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

_TimedWord = tuple[str, float, float]


@dataclass(frozen=True)
class Sentence:
    text: str
    start: float
    end: float

    @property
    def word_count(self) -> int:
        return len(self.text.split())


@dataclass
class Part:
    """One scene and the sentences spoken while it is on screen."""

    scene: Scene
    sentences: list[Sentence] = field(default_factory=list)

    @property
    def words(self) -> int:
        return sum(sentence.word_count for sentence in self.sentences)

    @property
    def duration(self) -> float:
        return max(self.scene.end - self.scene.start, 0.0)


# A sentence belongs to the scene on screen this long after its recognised start (or at
# its middle, if shorter): recognisers often time a first word a few tenths early.
SCENE_ANCHOR_SECONDS = 0.5


def parts_of(sentences: list[Sentence], scenes: list[Scene]) -> list[Part]:
    """Each sentence with the scene on screen as it starts (scenes in time order)."""
    parts = [Part(scene) for scene in scenes]
    for sentence in sentences:
        anchor = min(sentence.start + SCENE_ANCHOR_SECONDS, (sentence.start + sentence.end) / 2)
        index = 0
        for candidate, part in enumerate(parts):
            if part.scene.start <= anchor + 1e-6:
                index = candidate
        scene_start = parts[index].scene.start
        if sentence.start < scene_start:
            # its link opens on the scene it is told with, not the end of the one before
            sentence = replace(sentence, start=scene_start)
        parts[index].sentences.append(sentence)
    return parts


def speech_of(parts: list[Part]) -> str:
    return " ".join(sentence.text for part in parts for sentence in part.sentences)


def sentences_of(segments: list[Segment]) -> list[Sentence]:
    sentences: list[Sentence] = []
    for segment in sorted(segments, key=lambda s: (s.start_time, s.end_time)):
        for words in _sentence_words(segment):
            sentence = _format_sentence(words)
            if sentence is None:
                continue
            if sentences and sentences[-1].text.casefold() == sentence.text.casefold():
                continue  # a phrase said twice in a row is written once
            sentences.append(sentence)
    return sentences


def _sentence_words(segment: Segment) -> list[list[_TimedWord]]:
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

    sentences: list[list[_TimedWord]] = []
    current: list[_TimedWord] = []
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


def _without_repeats(words: list[_TimedWord]) -> list[_TimedWord]:
    """Drop stutters: a word or a pair of words said again right away ("the the")."""
    result: list[_TimedWord] = []
    for word in words:
        result.append(word)
        for size in (1, 2):
            if len(result) >= 2 * size and [plain(w[0]) for w in result[-size:]] == [
                plain(w[0]) for w in result[-2 * size : -size]
            ]:
                del result[-size:]
                break
    return result


def _conjunction_cut(words: list[_TimedWord]) -> int:
    """Where to end an over-long unpunctuated sentence: before its last conjunction."""
    for index in range(len(words) - 1, 8, -1):
        if plain(words[index][0]) in _CONJUNCTIONS:
            return index
    return len(words)


def _format_sentence(words: list[_TimedWord]) -> Sentence | None:
    tokens = [text for text, _, _ in words]
    if not tokens:
        return None
    if len(tokens) == 1 and plain(tokens[0]) in _DISCOURSE_ONLY:
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
    return Sentence(text, words[0][1], max(words[-1][2], words[0][1]))


def plain(token: str) -> str:
    return token.strip(".,!?;:\"'()").casefold()


def paragraphs(sentences: list[Sentence]) -> list[str]:
    """Sentences gathered into paragraphs, each opening with a link to its moment."""
    gathered: list[list[Sentence]] = []
    for sentence in sentences:
        if gathered:
            current = gathered[-1]
            words = sum(s.word_count for s in current)
            pause = sentence.start - current[-1].end
            if words < PARAGRAPH_WORDS and not (pause >= PARAGRAPH_PAUSE_SECONDS and words >= 15):
                current.append(sentence)
                continue
        gathered.append([sentence])
    return [
        f"{video_reference(paragraph[0].start)} " + " ".join(s.text for s in paragraph)
        for paragraph in gathered
    ]


# --- what a text is about ----------------------------------------------------------------


def keyword_counts(text: str) -> Counter[str]:
    """How often each word that could say what `text` is about occurs in it."""
    words = (word.strip("'-") for word in re.findall(r"[a-z][a-z'-]*", text.casefold()))
    return Counter(
        word.removesuffix("'s")
        for word in words
        if len(word) >= 3 and word not in STOPWORDS and word.removesuffix("'s") not in STOPWORDS
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


def summary_sentence(sentences: list[Sentence], *topics: set[str]) -> Sentence | None:
    """The sentence that best says what a chapter is about: the earliest one sharing the
    most words with the first of `topics` any sentence shares a word with, else the first
    one; only sentences of a summary's length (SUMMARY_WORDS) count."""
    low, high = SUMMARY_WORDS
    fitting = [s for s in sentences if low <= s.word_count <= high]
    for words in topics:
        scores = [len(topic_words(s.text) & words) for s in fitting]
        if scores and max(scores) > 0:
            return fitting[scores.index(max(scores))]
    return fitting[0] if fitting else None


def summary_line(sentence: Sentence) -> str:
    """The summary as written above an article: the sentence, linked to where it is said
    (it is left out of the paragraphs below, so it is read once)."""
    return f"{video_reference(sentence.start)} {sentence.text}"


def topic_words(text: str) -> set[str]:
    """The words of `text` that say what it is about, in a form that matches plurals."""
    return {_stem(word) for word in keyword_counts(text)}


def _stem(word: str) -> str:
    if len(word) > 5 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word
