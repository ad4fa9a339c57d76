from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reeldocs.media import MediaError, VideoProbe, probe
from tests.media.conftest import SLIDE_VIDEO_SECONDS, SLIDES
from tests.support.media_factory import (
    make_audio_only,
    make_empty,
    make_raw_h264,
    make_slide_video,
    make_text_file,
    make_truncated_copy,
    make_undecodable_copy,
    render_slide,
)


def test_probe_describes_an_mp4_with_speech(slide_video: Path) -> None:
    result = probe(slide_video)

    assert result.duration_seconds == pytest.approx(SLIDE_VIDEO_SECONDS, abs=0.05)
    assert result == VideoProbe(
        duration_seconds=result.duration_seconds,
        size_bytes=slide_video.stat().st_size,
        container="mp4",
        mime="video/mp4",
        video_codec="h264",
        audio_codec="aac",
        width=320,
        height=180,
        fps=10.0,
        rotation=0,
    )
    assert result.has_audio


def test_probe_describes_a_webm(slide_webm: Path) -> None:
    result = probe(slide_webm)

    assert (result.container, result.mime) == ("webm", "video/webm")
    assert (result.video_codec, result.audio_codec) == ("vp9", "opus")
    assert result.duration_seconds == pytest.approx(SLIDE_VIDEO_SECONDS, abs=0.05)


@pytest.mark.parametrize(
    ("suffix", "container", "mime"),
    [(".mov", "mov", "video/quicktime"), (".mkv", "mkv", "video/x-matroska")],
)
def test_probe_names_the_container_and_its_mime_type(
    tmp_path: Path, suffix: str, container: str, mime: str
) -> None:
    video = make_slide_video(tmp_path / f"clip{suffix}", SLIDES[:2], 1.0)

    result = probe(video)

    assert (result.container, result.mime) == (container, mime)
    assert not result.has_audio
    assert result.audio_codec is None
    assert result.duration_seconds == pytest.approx(2.0, abs=0.05)


def test_probe_measures_a_browser_recording_that_states_no_length(tmp_path: Path) -> None:
    video = make_slide_video(tmp_path / "recording.webm", SLIDES[:3], 1.0, codec="vp9", live=True)

    assert probe(video).duration_seconds == pytest.approx(3.0, abs=0.15)


def test_probe_reports_the_shape_a_player_shows_for_a_rotated_phone_video(tmp_path: Path) -> None:
    video = make_slide_video(tmp_path / "phone.mp4", SLIDES[:1], 1.0, display_rotation=-90)

    result = probe(video)

    assert (result.width, result.height) == (180, 320)
    assert result.rotation == -90


def test_probe_accepts_an_mp4_with_its_index_first(tmp_path: Path) -> None:
    video = make_slide_video(tmp_path / "web.mp4", SLIDES[:3], 1.0, faststart=True)

    assert probe(video).duration_seconds == pytest.approx(3.0, abs=0.05)


def test_probe_takes_milliseconds(slide_video: Path) -> None:
    probe(slide_video)  # first call pays for imports and FFmpeg's start-up
    durations = []
    for _ in range(5):
        started = time.perf_counter()
        probe(slide_video)
        durations.append(time.perf_counter() - started)

    assert sorted(durations)[2] < 0.05


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _picture(path: Path) -> Path:
    render_slide("A screenshot", (320, 180)).save(path, format="PNG")
    return path


BAD_INPUTS: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "empty file": (lambda folder, good: make_empty(folder / "empty.mp4"), "empty"),
    "text file": (lambda folder, good: make_text_file(folder / "notes.txt"), "contains text"),
    "text named .mp4": (lambda folder, good: make_text_file(folder / "notes.mp4"), "text"),
    "first 30% of an MP4": (
        lambda folder, good: make_truncated_copy(good, folder / "cut.mp4", 0.3),
        "incomplete",
    ),
    "first half of an MP4 with its index first": (
        lambda folder, good: make_truncated_copy(
            make_slide_video(folder / "web.mp4", SLIDES, 1.0, faststart=True),
            folder / "cut-web.mp4",
            0.5,
        ),
        "ends early",
    ),
    "audio-only MP4": (lambda folder, good: make_audio_only(folder / "voice.mp4"), "no video"),
    "audio-only WebM": (lambda folder, good: make_audio_only(folder / "voice.webm"), "no video"),
    "raw H.264 without a container": (
        lambda folder, good: make_raw_h264(folder / "stream.h264"),
        "length cannot be determined",
    ),
    "MP4 whose pictures are garbage": (
        lambda folder, good: make_undecodable_copy(good, folder / "garbled.mp4"),
        "could not be decoded",
    ),
    "PNG picture": (lambda folder, good: _picture(folder / "still.png"), "picture"),
    # Random bytes may pass for a lyrics file; its tags then are no UTF-8.
    "lyrics whose tags are no UTF-8": (
        lambda folder, good: _write(folder / "song.mp4", b"[ti:\x80\x81\xfe]\n[00:01.00]la\n"),
        "no video",
    ),
    "missing file": (lambda folder, good: folder / "never-uploaded.mp4", "could not be found"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_probe_refuses_bad_input_with_a_sentence(
    tmp_path: Path, slide_video: Path, case: str
) -> None:
    make_input, expected_words = BAD_INPUTS[case]
    bad_file = make_input(tmp_path, slide_video)

    with pytest.raises(MediaError) as raised:
        probe(bad_file)

    message = raised.value.message
    assert expected_words in message
    assert message == str(raised.value)
    assert message[0].isupper() and message.endswith(".")
    assert "Errno" not in message and str(tmp_path) not in message
