from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from reeldocs.media import SPEECH_SAMPLE_RATE, MediaError, extract_audio
from reeldocs.providers.base import Cancelled
from tests.media.conftest import SECONDS_PER_SLIDE, SLIDE_VIDEO_SECONDS, SLIDES
from tests.support.media_factory import make_slide_video, make_text_file


def _read_wav(path: Path) -> tuple[wave._wave_params, np.ndarray]:
    with wave.open(str(path), "rb") as wav:
        return wav.getparams(), np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")


def test_extract_audio_writes_16_khz_mono_pcm_as_long_as_the_video(
    tmp_path: Path, slide_video: Path
) -> None:
    out = tmp_path / "speech.wav"

    duration = extract_audio(slide_video, out)

    params, samples = _read_wav(out)
    assert (params.framerate, params.nchannels, params.sampwidth) == (16000, 1, 2)
    assert duration == pytest.approx(SLIDE_VIDEO_SECONDS, abs=0.1)
    assert duration == len(samples) / SPEECH_SAMPLE_RATE


def test_each_phrase_is_heard_where_its_slide_starts(tmp_path: Path, slide_video: Path) -> None:
    out = tmp_path / "speech.wav"
    extract_audio(slide_video, out)
    _, samples = _read_wav(out)

    def loud(start: float, end: float) -> bool:
        part = samples[round(start * SPEECH_SAMPLE_RATE) : round(end * SPEECH_SAMPLE_RATE)]
        return float(np.sqrt(np.mean(part.astype(np.float64) ** 2))) > 300

    for slide in range(len(SLIDES)):
        start, end = slide * SECONDS_PER_SLIDE, (slide + 1) * SECONDS_PER_SLIDE
        assert loud(start, start + 0.3), f"no speech at the start of slide {slide}"
        # Each phrase is shorter than its slide, so it is over before the next one starts.
        assert not loud(end - 0.4, end), f"speech at the end of slide {slide}"


def test_extract_audio_from_webm_opus(tmp_path: Path, slide_webm: Path) -> None:
    out = tmp_path / "speech.wav"

    duration = extract_audio(slide_webm, out)

    params, _ = _read_wav(out)
    assert (params.framerate, params.nchannels) == (16000, 1)
    assert duration == pytest.approx(SLIDE_VIDEO_SECONDS, abs=0.1)


def test_a_silent_video_gives_no_file_and_zero_seconds(tmp_path: Path) -> None:
    video = make_slide_video(tmp_path / "silent.mp4", SLIDES[:2], 1.0)
    out = tmp_path / "speech.wav"
    out.write_bytes(b"left over from an earlier attempt")

    assert extract_audio(video, out) == 0.0
    assert not out.exists()


def test_progress_moves_forward_and_ends_at_the_total(tmp_path: Path, slide_video: Path) -> None:
    reports: list[tuple[float, float]] = []

    extract_audio(
        slide_video, tmp_path / "speech.wav", lambda done, total: reports.append((done, total))
    )

    assert len(reports) >= 3
    done_values = [done for done, _ in reports]
    assert done_values == sorted(done_values)
    assert reports[-1][0] == reports[-1][1] == pytest.approx(SLIDE_VIDEO_SECONDS, abs=0.1)


def test_a_cancelled_extraction_leaves_no_file(tmp_path: Path, slide_video: Path) -> None:
    out = tmp_path / "speech.wav"

    def cancel(done: float, total: float) -> None:
        raise Cancelled()

    with pytest.raises(Cancelled):
        extract_audio(slide_video, out, cancel)
    assert list(tmp_path.iterdir()) == []


def test_extract_audio_refuses_a_file_that_is_not_media(tmp_path: Path) -> None:
    with pytest.raises(MediaError):
        extract_audio(make_text_file(tmp_path / "notes.mp4"), tmp_path / "speech.wav")
