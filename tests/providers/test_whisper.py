"""The offline recogniser on real espeak-ng speech: words, timing, progress and cancellation.

Whisper (tiny.en, installed with Reeldocs) hears espeak-ng's voice well, so these
tests check the words as well as where the segments fall.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from support import read_speech
from support.media_factory import SPEECH_RATE, make_static_video, speak
from support.speech_audio import SAMPLE_RATE, SpokenAudio, spoken_phrases, write_wav

from reeldocs.providers.base import Cancelled, MediaContext, ProviderError, Scene
from reeldocs.providers.offline import whisper_models
from reeldocs.providers.offline.whisper import SpeechAudio, WhisperUnderstanding, stretches

PHRASES = [
    "Open the settings page and press export.",
    "Now choose a name for the file and save it.",
    "Finally close the dialog window.",
]


@pytest.fixture(scope="module")
def spoken_audio(tmp_path_factory: pytest.TempPathFactory) -> SpokenAudio:
    return spoken_phrases(PHRASES, tmp_path_factory.mktemp("speech") / "three-phrases.wav")


@pytest.fixture(scope="module")
def long_spoken_audio(tmp_path_factory: pytest.TempPathFactory) -> SpokenAudio:
    """Six times the phrases, about 80 s: more than one 30 s window for Whisper to decode."""
    path = tmp_path_factory.mktemp("speech") / "eighteen-phrases.wav"
    return spoken_phrases(PHRASES * 6, path)


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> WhisperUnderstanding:
    return WhisperUnderstanding(models_dir=tmp_path_factory.mktemp("models"))


def media_for(
    audio_path: Path | None,
    duration: float,
    scenes: list[Scene] | None = None,
    progress: list[tuple[float, float]] | None = None,
    language: str | None = None,
) -> MediaContext:
    calls = progress if progress is not None else []
    return MediaContext(
        video_path=Path("unused.mp4"),
        audio_path=audio_path,
        duration=duration,
        mime="video/mp4",
        scenes=scenes or [],
        source_language=language,
        progress=lambda done, total: calls.append((done, total)),
    )


def clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def test_segments_follow_the_spoken_phrases(
    provider: WhisperUnderstanding, spoken_audio: SpokenAudio
) -> None:
    cut = (spoken_audio.phrase_spans[1][1] + spoken_audio.phrase_spans[2][0]) / 2
    scenes = [
        Scene(0.0, cut, text="Settings  page"),
        Scene(cut, spoken_audio.duration, text=""),
    ]
    progress: list[tuple[float, float]] = []
    media = media_for(spoken_audio.path, spoken_audio.duration, scenes, progress)

    segments = provider.understand(media)

    assert media.source_language == "en"  # what the model heard, for a job that gave none
    heard = read_speech.words(" ".join(s.spoken_content for s in segments))
    said = read_speech.words(" ".join(PHRASES))
    # tiny.en hears "File it close" for "Finally close" and "the name" for "a name" here.
    assert read_speech.word_errors(said, heard) <= 4, heard
    for start, end in spoken_audio.phrase_spans:
        assert any(s.start_time < end and s.end_time > start for s in segments), (start, end)
    previous_end = 0.0
    for segment in segments:
        assert previous_end <= segment.start_time < segment.end_time <= spoken_audio.duration
        previous_end = segment.end_time
        assert segment.words
        for word in segment.words:
            assert segment.start_time <= word.start <= word.end <= segment.end_time
        assert segment.spoken_content[0].isupper() and segment.spoken_content.endswith(".")
        # No segment straddles the scene cut, and each names the scene it belongs to.
        assert segment.end_time <= cut or segment.start_time >= cut
        if segment.end_time <= cut:
            assert segment.visual_context == f"Scene 1 of 2 (0:00–{clock(cut)}): Settings page"
        else:
            assert segment.visual_context == (
                f"Scene 2 of 2 ({clock(cut)}–{clock(spoken_audio.duration)})"
            )
        # Nothing from the silence between phrases.
        assert any(
            segment.start_time < end + 0.5 and segment.end_time > start - 0.5
            for start, end in spoken_audio.phrase_spans
        )
    # The last phrase, alone in its scene, is one segment.
    last_scene = [s.spoken_content for s in segments if s.start_time >= cut]
    assert len(last_scene) == 1 and last_scene[0].endswith("close the dialog window.")

    dones = [done for done, _ in progress]
    assert dones == sorted(dones) and len(dones) >= 3
    assert progress[-1] == (
        pytest.approx(spoken_audio.duration),
        pytest.approx(spoken_audio.duration),
    )


def test_progress_is_checked_after_each_decoded_piece_so_a_job_can_stop(
    provider: WhisperUnderstanding, long_spoken_audio: SpokenAudio
) -> None:
    spoken_audio = long_spoken_audio
    seen: list[float] = []

    def progress(done: float, total: float) -> None:
        seen.append(done)
        if done > 0:  # the first piece is decoded: stop while the rest is still to do
            raise Cancelled()

    media = media_for(spoken_audio.path, spoken_audio.duration)
    media.progress = progress
    with pytest.raises(Cancelled):
        provider.understand(media)
    assert seen[0] == 0.0 and 0 < seen[-1] < spoken_audio.duration / 2

    # The next job on the same model hears everything.
    segments = provider.understand(media_for(spoken_audio.path, spoken_audio.duration))
    assert segments[-1].end_time > spoken_audio.phrase_spans[-1][0]
    assert segments[-1].end_time <= spoken_audio.duration


def test_the_model_stays_loaded_for_the_next_video(
    spoken_audio: SpokenAudio, tmp_path: Path
) -> None:
    first, second = (WhisperUnderstanding(models_dir=tmp_path) for _ in range(2))
    notices: list[str] = []
    media = media_for(spoken_audio.path, spoken_audio.duration)
    media.notice = notices.append
    first.understand(media)
    folder = first.model_folder(lambda message: None)
    assert whisper_models.is_loaded(folder, first.compute_type)
    model = first.load()

    notices.clear()
    second.understand(media)
    assert second.load() is model
    assert not any(notice.startswith("Loading") for notice in notices)


def test_scenes_still_being_found_are_waited_for(
    provider: WhisperUnderstanding, spoken_audio: SpokenAudio
) -> None:
    cut = (spoken_audio.phrase_spans[1][1] + spoken_audio.phrase_spans[2][0]) / 2
    scenes: Future[list[Scene]] = Future()
    media = media_for(spoken_audio.path, spoken_audio.duration)
    media.scenes = scenes
    timer = threading.Timer(
        0.3, scenes.set_result, [[Scene(0.0, cut), Scene(cut, spoken_audio.duration)]]
    )
    timer.start()
    segments = provider.understand(media)
    assert segments and all(s.end_time <= cut or s.start_time >= cut for s in segments)
    assert {s.visual_context.split(" (")[0] for s in segments} == {"Scene 1 of 2", "Scene 2 of 2"}

    failed: Future[list[Scene]] = Future()
    failed.set_exception(Cancelled("Scene analysis was stopped."))
    media = media_for(spoken_audio.path, spoken_audio.duration)
    media.scenes = failed
    with pytest.raises(Cancelled):
        provider.understand(media)


def test_audio_in_another_format_is_converted_first(
    provider: WhisperUnderstanding, tmp_path: Path
) -> None:
    # espeak-ng's own 22.05 kHz output, with silence around it: not what extraction writes.
    silence = np.zeros(SPEECH_RATE, dtype=np.int16)
    phrase = speak(PHRASES[0])
    path = write_wav(tmp_path / "speech-22k.wav", np.concatenate([silence, phrase, silence]), 22050)
    duration = (2 * len(silence) + len(phrase)) / SPEECH_RATE

    segments = provider.understand(media_for(path, duration))

    assert [s.spoken_content for s in segments] == [PHRASES[0]]
    assert 0.5 < segments[0].start_time and segments[-1].end_time < duration - 0.5


def test_silent_or_missing_audio_gives_no_segments(
    provider: WhisperUnderstanding, tmp_path: Path
) -> None:
    silent = write_wav(tmp_path / "silent.wav", np.zeros(3 * SAMPLE_RATE, dtype=np.int16))
    progress: list[tuple[float, float]] = []
    assert provider.understand(media_for(silent, 3.0, progress=progress)) == []
    assert progress[-1] == (3.0, 3.0)

    assert provider.understand(media_for(None, 4.0)) == []
    missing = tmp_path / "never-written.wav"
    assert provider.understand(media_for(missing, 4.0)) == []
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    assert provider.understand(media_for(empty, 4.0)) == []
    no_samples = write_wav(tmp_path / "no-samples.wav", np.zeros(0, dtype=np.int16))
    assert provider.understand(media_for(no_samples, 4.0)) == []
    # A file PyAV reads but which holds no sound at all.
    no_sound = make_static_video(tmp_path / "no-sound.mp4", 1.0)
    assert provider.understand(media_for(no_sound, 1.0)) == []


def test_unreadable_audio_is_a_provider_error_with_a_sentence(
    provider: WhisperUnderstanding, tmp_path: Path
) -> None:
    garbage = tmp_path / "audio.wav"
    garbage.write_bytes(b"these bytes are no audio format at all" * 50)
    started = time.monotonic()
    with pytest.raises(ProviderError, match="audio track of this video could not be read"):
        provider.understand(media_for(garbage, 2.0))
    assert time.monotonic() - started < 5.0


def test_long_audio_is_heard_a_stretch_at_a_time_cut_where_it_is_quiet(
    long_spoken_audio: SpokenAudio, tmp_path: Path
) -> None:
    audio = SpeechAudio(wav_path=long_spoken_audio.path)
    bounds = stretches(audio, seconds=20.0)  # as the provider below cuts it
    assert bounds[0][0] == 0 and bounds[-1][1] == audio.total_samples
    assert all(end == next_first for (_, end), (next_first, _) in pairwise(bounds))
    assert all(10 * SAMPLE_RATE <= end - first <= 20 * SAMPLE_RATE for first, end in bounds[:-1])
    for _, cut in bounds[:-1]:  # every cut falls where nothing is said
        around = audio.read(cut - SAMPLE_RATE // 20, cut + SAMPLE_RATE // 20)
        assert np.abs(around).max() < 0.01, cut / SAMPLE_RATE

    whole = WhisperUnderstanding(models_dir=tmp_path)
    cut_up = WhisperUnderstanding(models_dir=tmp_path, stretch_seconds=20.0)
    progress: list[tuple[float, float]] = []
    media = media_for(long_spoken_audio.path, long_spoken_audio.duration, progress=progress)
    in_stretches = cut_up.understand(media)
    at_once = whole.understand(media_for(long_spoken_audio.path, long_spoken_audio.duration))

    # tiny.en makes about one error in ten on these repeated phrases, whole or in
    # stretches (20 s ones are shorter than its 30 s window, which it pads).
    said = read_speech.words(" ".join(PHRASES * 6))
    for segments in (in_stretches, at_once):
        heard = read_speech.words(" ".join(s.spoken_content for s in segments))
        assert read_speech.word_errors(said, heard) <= len(said) * 0.2, heard
    words = [word for segment in in_stretches for word in segment.words]
    assert [word.start for word in words] == sorted(word.start for word in words)
    for word in words:  # on the video's clock, not the stretch's
        assert any(
            start - 1.0 <= word.start <= end + 1.0 for start, end in long_spoken_audio.phrase_spans
        )
    dones = [done for done, _ in progress]
    assert dones == sorted(dones) and dones[-1] == pytest.approx(long_spoken_audio.duration)
    assert {round(end / SAMPLE_RATE, 3) for _, end in bounds} <= {round(d, 3) for d in dones}
