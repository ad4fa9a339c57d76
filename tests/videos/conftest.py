"""Videos for the upload tests, made once per run (a fraction of a second each)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.media_factory import (
    make_audio_only,
    make_empty,
    make_slide_video,
    make_text_file,
    make_truncated_copy,
)

SLIDES = ["Welcome to the tour", "Open the settings page"]
SECONDS_PER_SLIDE = 1.0
VIDEO_SECONDS = SECONDS_PER_SLIDE * len(SLIDES)


@pytest.fixture(scope="session")
def video_media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("video-uploads")


@pytest.fixture(scope="session")
def sample_video(video_media_dir: Path) -> Path:
    return make_slide_video(video_media_dir / "tour.mp4", SLIDES, SECONDS_PER_SLIDE)


@pytest.fixture(scope="session")
def refused_files(video_media_dir: Path, sample_video: Path) -> dict[str, Path]:
    """Files that are not usable videos, each named as if it were one."""
    return {
        "empty": make_empty(video_media_dir / "empty.mp4"),
        "text": make_text_file(video_media_dir / "notes.mp4"),
        "truncated": make_truncated_copy(sample_video, video_media_dir / "cut.mp4", 0.5),
        "audio_only": make_audio_only(video_media_dir / "voice.mp4"),
    }
