"""The offline recogniser on real espeak-ng speech: timing and structure, not words.

pocketsphinx hears synthetic speech badly, so these tests check where segments fall,
how progress and cancellation behave and that no worker process outlives a call.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
import wave
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest

from reeldocs.providers.base import Cancelled, MediaContext, ProviderError, Scene, Word
from reeldocs.providers.offline.speech import (
    SAMPLE_RATE,
    DecoderPool,
    PocketsphinxUnderstanding,
    build_segments,
    describe_scene,
    find_speech_regions,
    recognise_regions,
    segment_spans,
    tidy_sentence,
)
from tests.support.media_factory import SPEECH_RATE, make_static_video, speak

PHRASES = [
    "Open the settings page and press export.",
    "Now choose a name for the file and save it.",
    "Finally close the dialog window.",
]
GAP_SECONDS = 1.5


@dataclass
class SpokenAudio:
    path: Path
    duration: float
    phrase_spans: list[tuple[float, float]]


def to_speech_rate(samples: np.ndarray, rate: int = SPEECH_RATE) -> np.ndarray:
    """int16 mono samples resampled to 16 kHz with PyAV."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    converted = [*resampler.resample(frame), *resampler.resample(None)]
    return np.concatenate([piece.to_ndarray().reshape(-1) for piece in converted])


def write_wav(path: Path, samples: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.astype("<i2").tobytes())
    return path


def _spoken(phrases: list[str], path: Path) -> SpokenAudio:
    """The phrases with 1.5 s of silence before, between and after them."""
    silence = np.zeros(int(GAP_SECONDS * SAMPLE_RATE), dtype=np.int16)
    pieces = [silence]
    spans = []
    cursor = len(silence)
    for phrase in phrases:
        samples = to_speech_rate(speak(phrase))
        spans.append((cursor / SAMPLE_RATE, (cursor + len(samples)) / SAMPLE_RATE))
        pieces += [samples, silence]
        cursor += len(samples) + len(silence)
    return SpokenAudio(write_wav(path, np.concatenate(pieces)), cursor / SAMPLE_RATE, spans)


@pytest.fixture(scope="module")
def spoken_audio(tmp_path_factory: pytest.TempPathFactory) -> SpokenAudio:
    return _spoken(PHRASES, tmp_path_factory.mktemp("speech") / "three-phrases.wav")


@pytest.fixture(scope="module")
def long_spoken_audio(tmp_path_factory: pytest.TempPathFactory) -> SpokenAudio:
    """Four times the phrases: more regions than the decoders hold at once, so a busy
    machine cannot finish them all before the first progress report."""
    return _spoken(PHRASES * 4, tmp_path_factory.mktemp("speech") / "twelve-phrases.wav")


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


def child_pids() -> set[int]:
    """Processes whose parent is this test process, read from /proc."""
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces: the parent pid is the 2nd field after ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
            children.add(int(entry.name))
    return children


def clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def speech_workdirs() -> set[str]:
    return {
        name for name in os.listdir(tempfile.gettempdir()) if name.startswith("reeldocs-speech")
    }


# -- recognising real speech -----------------------------------------------------------------


def test_segments_follow_the_spoken_phrases(spoken_audio: SpokenAudio) -> None:
    cut = (spoken_audio.phrase_spans[1][1] + spoken_audio.phrase_spans[2][0]) / 2
    scenes = [
        Scene(0.0, cut, text="Settings  page"),
        Scene(cut, spoken_audio.duration, text=""),
    ]
    progress: list[tuple[float, float]] = []
    media = media_for(spoken_audio.path, spoken_audio.duration, scenes, progress)

    segments = PocketsphinxUnderstanding().understand(media)

    assert segments
    for start, end in spoken_audio.phrase_spans:
        assert any(s.start_time < end and s.end_time > start for s in segments), (start, end)
    previous_end = 0.0
    for segment in segments:
        assert previous_end <= segment.start_time < segment.end_time <= spoken_audio.duration
        previous_end = segment.end_time
        assert segment.words
        for word in segment.words:
            assert segment.start_time <= word.start < word.end <= segment.end_time
            assert word.text and word.text[0] not in "<[+" and "(" not in word.text
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

    dones = [done for done, _ in progress]
    assert dones == sorted(dones)
    assert progress[-1] == (
        pytest.approx(spoken_audio.duration),
        pytest.approx(spoken_audio.duration),
    )


def test_cancelling_during_recognition_stops_the_workers_quickly(
    long_spoken_audio: SpokenAudio,
) -> None:
    spoken_audio = long_spoken_audio
    children_before = child_pids()
    workdirs_before = speech_workdirs()
    raised_at: list[float] = []
    seen: list[float] = []

    def progress(done: float, total: float) -> None:
        seen.append(done)
        # Stop once the first phrase is decoded, while the others are still being worked on.
        if done > spoken_audio.phrase_spans[0][0]:
            raised_at.append(time.monotonic())
            raise Cancelled()

    media = media_for(spoken_audio.path, spoken_audio.duration)
    media.progress = progress
    with pytest.raises(Cancelled):
        PocketsphinxUnderstanding().understand(media)
    stopped_at = time.monotonic()

    assert raised_at and seen[-1] < spoken_audio.duration
    assert stopped_at - raised_at[0] < 2.0
    assert child_pids() <= children_before
    assert speech_workdirs() <= workdirs_before


def test_recognition_processes_stay_loaded_for_the_next_video(
    spoken_audio: SpokenAudio, tmp_path: Path
) -> None:
    pool = DecoderPool(tmp_path, idle_seconds=60)
    provider = PocketsphinxUnderstanding(pool=pool)
    children_before = child_pids()
    try:
        first = provider.understand(media_for(spoken_audio.path, spoken_audio.duration))
        loaded = child_pids() - children_before
        assert len(loaded) == 2 and pool.idle_count() == 2

        second = provider.understand(media_for(spoken_audio.path, spoken_audio.duration))
        assert child_pids() - children_before == loaded  # the same two, no new ones
        assert [s.spoken_content for s in second] == [s.spoken_content for s in first]
    finally:
        pool.close()
    assert child_pids() <= children_before


def test_idle_recognition_processes_are_stopped_after_a_while(
    spoken_audio: SpokenAudio, tmp_path: Path
) -> None:
    pool = DecoderPool(tmp_path, idle_seconds=0.5)
    children_before = child_pids()
    PocketsphinxUnderstanding(pool=pool).understand(
        media_for(spoken_audio.path, spoken_audio.duration)
    )
    assert pool.idle_count() == 2
    deadline = time.monotonic() + 5
    while (pool.idle_count() or child_pids() - children_before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool.idle_count() == 0
    assert child_pids() <= children_before


def test_each_idle_process_is_stopped_when_its_own_time_is_up(tmp_path: Path) -> None:
    pool = DecoderPool(tmp_path, idle_seconds=2.0)
    first, second = pool.take(2)
    pool.give_back([first], healthy=True)
    time.sleep(1.5)
    pool.give_back([second], healthy=True)
    second_back = time.monotonic()
    deadline = second_back + 10
    while pool.idle_count() == 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool.idle_count() == 1 and time.monotonic() - second_back < 1.9
    assert first.process.wait(timeout=5) is not None and second.process.poll() is None
    while pool.idle_count() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool.idle_count() == 0 and second.process.wait(timeout=5) is not None


def test_scenes_still_being_found_are_waited_for(spoken_audio: SpokenAudio) -> None:
    cut = (spoken_audio.phrase_spans[1][1] + spoken_audio.phrase_spans[2][0]) / 2
    scenes: Future[list[Scene]] = Future()
    media = media_for(spoken_audio.path, spoken_audio.duration)
    media.scenes = scenes
    timer = threading.Timer(
        0.3, scenes.set_result, [[Scene(0.0, cut), Scene(cut, spoken_audio.duration)]]
    )
    timer.start()
    segments = PocketsphinxUnderstanding().understand(media)
    assert segments and all(s.end_time <= cut or s.start_time >= cut for s in segments)
    assert {s.visual_context.split(" (")[0] for s in segments} == {"Scene 1 of 2", "Scene 2 of 2"}

    failed: Future[list[Scene]] = Future()
    failed.set_exception(Cancelled("Scene analysis was stopped."))
    media = media_for(spoken_audio.path, spoken_audio.duration)
    media.scenes = failed
    with pytest.raises(Cancelled):
        PocketsphinxUnderstanding().understand(media)


def test_audio_in_another_format_is_converted_first(tmp_path: Path) -> None:
    # espeak-ng's own 22.05 kHz output, with silence around it: not what extraction writes.
    silence = np.zeros(SPEECH_RATE, dtype=np.int16)
    phrase = speak(PHRASES[0])
    path = write_wav(tmp_path / "speech-22k.wav", np.concatenate([silence, phrase, silence]), 22050)
    duration = (2 * len(silence) + len(phrase)) / SPEECH_RATE

    segments = PocketsphinxUnderstanding().understand(media_for(path, duration))

    assert segments
    assert 0.5 < segments[0].start_time and segments[-1].end_time < duration - 0.5


def test_silent_or_missing_audio_gives_no_segments(tmp_path: Path) -> None:
    silent = write_wav(tmp_path / "silent.wav", np.zeros(3 * SAMPLE_RATE, dtype=np.int16))
    progress: list[tuple[float, float]] = []
    children_before = child_pids()

    assert PocketsphinxUnderstanding().understand(media_for(silent, 3.0, progress=progress)) == []
    assert progress[-1] == (3.0, 3.0)
    assert child_pids() <= children_before  # no speech, so no worker was needed

    assert PocketsphinxUnderstanding().understand(media_for(None, 4.0)) == []
    missing = tmp_path / "never-written.wav"
    assert PocketsphinxUnderstanding().understand(media_for(missing, 4.0)) == []
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    assert PocketsphinxUnderstanding().understand(media_for(empty, 4.0)) == []
    # A file PyAV reads but which holds no sound at all.
    no_sound = make_static_video(tmp_path / "no-sound.mp4", 1.0)
    assert PocketsphinxUnderstanding().understand(media_for(no_sound, 1.0)) == []


def test_unreadable_audio_is_a_provider_error_with_a_sentence(tmp_path: Path) -> None:
    garbage = tmp_path / "audio.wav"
    garbage.write_bytes(b"these bytes are no audio format at all" * 50)
    with pytest.raises(ProviderError, match="audio track of this video could not be read"):
        PocketsphinxUnderstanding().understand(media_for(garbage, 2.0))


def test_other_spoken_languages_are_refused_with_a_sentence(spoken_audio: SpokenAudio) -> None:
    provider = PocketsphinxUnderstanding()
    assert provider.name == "pocketsphinx" and provider.languages() == ["en"]
    with pytest.raises(ProviderError, match="understands English only"):
        provider.understand(media_for(spoken_audio.path, spoken_audio.duration, language="es"))


def test_a_worker_failure_becomes_a_provider_error(
    spoken_audio: SpokenAudio, tmp_path: Path
) -> None:
    regions, total = find_speech_regions(spoken_audio.path)
    children_before = child_pids()
    with pytest.raises(ProviderError, match="speech recogniser failed"):
        recognise_regions(
            tmp_path / "gone.wav",
            regions,
            total,
            lambda d, t: None,
            workers=1,
            pool=DecoderPool(tmp_path),
        )
    assert child_pids() <= children_before


def test_a_killed_worker_becomes_a_retryable_provider_error(
    spoken_audio: SpokenAudio, tmp_path: Path
) -> None:
    regions, total = find_speech_regions(spoken_audio.path)
    children_before = child_pids()

    def kill_the_workers(done: float, total: float) -> None:
        for pid in child_pids() - children_before:
            os.kill(pid, signal.SIGKILL)

    with pytest.raises(ProviderError, match="stopped unexpectedly") as failure:
        recognise_regions(
            spoken_audio.path,
            regions,
            total,
            kill_the_workers,
            workers=2,
            pool=DecoderPool(tmp_path),
        )
    assert failure.value.transient
    assert child_pids() <= children_before


# -- finding speech regions ------------------------------------------------------------------


def trim_silence(samples: np.ndarray, level: int = 300) -> np.ndarray:
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > level)
    return samples[loud[0] : loud[-1] + 1]


def test_long_speech_is_cut_into_short_regions_at_quiet_moments(tmp_path: Path) -> None:
    # ~40 s of phrases run together, espeak's silence around each trimmed, so the voice
    # detector hears one long stretch of speech.
    phrases = [trim_silence(to_speech_rate(speak(text))) for text in PHRASES]
    pieces: list[np.ndarray] = []
    while sum(len(piece) for piece in pieces) < 40 * SAMPLE_RATE:
        pieces += phrases
    samples = np.concatenate(pieces)
    path = write_wav(tmp_path / "continuous.wav", samples)
    uncut, _ = find_speech_regions(path, max_region_seconds=1000.0)
    assert max(region.seconds for region in uncut) > 20.0

    regions, total = find_speech_regions(path, max_region_seconds=10.0)

    assert total == pytest.approx(len(samples) / SAMPLE_RATE)
    assert len(regions) >= 4
    assert all(0 < region.seconds <= 10.0 for region in regions)
    for before, after in zip(regions, regions[1:], strict=False):
        assert before.end_sample <= after.first_sample
    spoken = sum(region.seconds for region in regions)
    assert spoken > 0.8 * total


# -- grouping words into segments ------------------------------------------------------------


def words_at(*times: float, length: float = 0.3) -> list[Word]:
    return [Word(f"w{index}", start, start + length) for index, start in enumerate(times)]


def test_words_are_grouped_at_pauses_and_scene_cuts() -> None:
    words = words_at(0.0, 0.4, 0.8, 2.0, 2.4, 5.0, 5.4)
    scenes = [Scene(0.0, 5.2), Scene(5.2, 9.0)]
    assert segment_spans(words, []) == [(0, 3), (3, 5), (5, 7)]
    # The cut at 5.2 splits the last group, between the words on either side of it.
    assert segment_spans(words, scenes) == [(0, 3), (3, 5), (5, 6), (6, 7)]


def test_segments_stay_under_the_word_and_length_limits() -> None:
    chatter = words_at(*(index * 0.35 for index in range(100)))
    spans = segment_spans(chatter, [])
    assert [last - first for first, last in spans] == [40, 40, 20]
    steady = words_at(*(index * 0.5 for index in range(80)))
    for first, last in segment_spans(steady, []):
        assert steady[last - 1].end - steady[first].start <= 15.0
    assert segment_spans([], []) == []


def test_built_segments_read_as_sentences_and_name_their_scene() -> None:
    words = [Word("click", 1.0, 1.3), Word("save", 1.4, 1.8), Word("done", 4.0, 4.4)]
    scenes = [Scene(0.0, 3.0, text="Save dialog"), Scene(3.0, 75.5)]
    segments = build_segments(
        words, scenes, lambda first, last: " ".join(w.text for w in words[first:last])
    )
    assert [(s.start_time, s.end_time, s.spoken_content) for s in segments] == [
        (1.0, 1.8, "Click save."),
        (4.0, 4.4, "Done."),
    ]
    assert segments[0].words == words[:2]
    assert segments[0].visual_context == "Scene 1 of 2 (0:00–0:03): Save dialog"
    assert segments[1].visual_context == "Scene 2 of 2 (0:03–1:15)"
    assert describe_scene([], 0.0, 1.0) == ""
    assert (
        describe_scene([Scene(3600.0, 3725.0)], 3601.0, 3602.0) == "Scene 1 of 1 (1:00:00–1:02:05)"
    )
    assert tidy_sentence("  is  it saved?") == "Is it saved?"
    assert tidy_sentence("") == ""
