"""Videos shared by the media tests, made once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.media_factory import make_slide_video

# Only the text changes from one slide to the next: the hard case for scene detection.
SLIDES = [
    "Step 1: Open the settings page",
    "Step 2: Click the blue Invite button",
    "Step 3: Type the email address of your colleague",
    "Step 4: Choose a role for them",
    "Step 5: Press Send",
    "Step 6: Done, they are in",
]
PHRASES = ["Open settings", "Click invite", "Type the email", "Choose a role", "Press send", "Done"]
SECONDS_PER_SLIDE = 2.5
SLIDE_VIDEO_SECONDS = SECONDS_PER_SLIDE * len(SLIDES)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def slide_video(media_dir: Path) -> Path:
    """Six text-only slides of 2.5 s, 320x180 at 10 fps, H.264 + AAC speech in MP4."""
    return make_slide_video(
        media_dir / "slides.mp4", SLIDES, SECONDS_PER_SLIDE, speech=PHRASES, codec="h264"
    )


@pytest.fixture(scope="session")
def slide_webm(media_dir: Path) -> Path:
    """The same slides as VP9 + Opus in WebM."""
    return make_slide_video(
        media_dir / "slides.webm", SLIDES, SECONDS_PER_SLIDE, speech=PHRASES, codec="vp9"
    )
