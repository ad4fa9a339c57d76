"""Words, not just timing: the offline recogniser on read English (festival's voice)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support import read_speech
from support.speech_audio import write_wav

from reeldocs.providers.base import MediaContext
from reeldocs.providers.offline.whisper import WhisperUnderstanding

pytestmark = pytest.mark.skipif(
    not read_speech.available(),
    reason="festival with festvox-us-slt-hts is not installed (make test installs it)",
)


def test_read_english_is_recognised_with_few_errors_and_true_timestamps(tmp_path: Path) -> None:
    silence = np.zeros(read_speech.SAMPLE_RATE, dtype=np.int16)
    pieces = [silence]
    spans: list[tuple[float, float]] = []
    cursor = len(silence)
    for sentence in read_speech.SENTENCES:
        spoken = read_speech.speak(sentence)
        spans.append(
            (cursor / read_speech.SAMPLE_RATE, (cursor + len(spoken)) / read_speech.SAMPLE_RATE)
        )
        pieces += [spoken, silence]
        cursor += len(spoken) + len(silence)
    audio = np.concatenate(pieces)
    path = write_wav(tmp_path / "read.wav", audio, read_speech.SAMPLE_RATE)
    duration = len(audio) / read_speech.SAMPLE_RATE
    media = MediaContext(
        video_path=Path("unused.mp4"),
        audio_path=path,
        duration=duration,
        mime="video/mp4",
        scenes=[],
        source_language="en",
    )
    segments = WhisperUnderstanding(models_dir=tmp_path / "models").understand(media)

    reference = read_speech.words(" ".join(read_speech.SENTENCES))
    hypothesis = read_speech.words(" ".join(s.spoken_content for s in segments))
    error_rate = read_speech.word_errors(reference, hypothesis) / len(reference)
    # 0.03 measured here with tiny.en (pocketsphinx, replaced by it, made 0.14).
    assert error_rate < 0.10, (error_rate, " ".join(hypothesis))
    # Cased and punctuated: segments end at sentence ends.
    assert all(s.spoken_content[0].isupper() for s in segments)
    assert sum(s.spoken_content.endswith(".") for s in segments) == len(segments)
    # Every word lies within the audio, and within a second of a sentence spoken there.
    assert segments[0].start_time >= 0.5 and segments[-1].end_time <= duration
    for word in (word for segment in segments for word in segment.words):
        assert 0 <= word.start <= word.end <= duration
        assert any(start - 1.0 <= word.start <= end + 1.0 for start, end in spans), word
