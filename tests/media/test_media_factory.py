"""The test media factory is used by the whole suite: it must stay fast and faithful."""

from __future__ import annotations

import time
from pathlib import Path

import av
import numpy as np
import pytest

from tests.support.media_factory import (
    PRODUCT_TOUR,
    make_slide_video,
    make_titled_slide_video,
    make_truncated_copy,
    render_titled_slide,
)


def test_twenty_seconds_of_slides_with_speech_take_well_under_a_few_seconds(
    tmp_path: Path,
) -> None:
    slides = [f"Slide {number}: something new to read" for number in range(8)]
    phrases = [f"This is slide {number}" for number in range(8)]

    started = time.perf_counter()
    video = make_slide_video(tmp_path / "talk.mp4", slides, 2.5, speech=phrases)
    elapsed = time.perf_counter() - started

    assert elapsed < 5.0
    with av.open(str(video)) as container:
        video_stream = container.streams.video[0]
        audio_stream = container.streams.audio[0]
        assert (video_stream.width, video_stream.height) == (320, 180)
        assert video_stream.frames == 200
        assert container.duration is not None
        assert container.duration / av.time_base == pytest.approx(20.0, abs=0.05)
        assert audio_stream.codec_context.name == "aac"


def test_the_same_arguments_give_the_same_file(tmp_path: Path) -> None:
    first = make_slide_video(tmp_path / "a.mp4", ["One", "Two"], 1.0)
    second = make_slide_video(tmp_path / "b.mp4", ["One", "Two"], 1.0)

    assert first.read_bytes() == second.read_bytes()


def test_truncated_copy_keeps_the_leading_bytes(tmp_path: Path) -> None:
    source = make_slide_video(tmp_path / "full.mp4", ["One"], 1.0)

    copy = make_truncated_copy(source, tmp_path / "cut.mp4", 0.3)

    assert copy.read_bytes() == source.read_bytes()[: int(source.stat().st_size * 0.3)]


def test_titled_slide_videos_say_what_each_slide_shows(tmp_path: Path) -> None:
    slides = PRODUCT_TOUR[1:4]
    video = make_titled_slide_video(tmp_path / "tour.mp4", slides, 1.5, (320, 180), fps=10)
    assert video.titles == [slide.title for slide in slides]
    assert video.bullets == [slide.bullets for slide in slides]
    assert video.starts == [0.0, 1.5, 3.0] and video.duration == 4.5
    with av.open(str(video.path)) as container:
        assert container.duration is not None
        assert container.duration / av.time_base == pytest.approx(4.5, abs=0.05)
        assert container.streams.audio  # each slide's speech, read by espeak-ng
    # light slides are light, dark ones dark
    for slide in PRODUCT_TOUR:
        brightness = np.asarray(render_titled_slide(slide, (320, 180)).convert("L")).mean()
        assert (brightness < 80) if slide.dark else (brightness > 180), slide.title
    assert sum(slide.dark for slide in PRODUCT_TOUR) == 2 and len(PRODUCT_TOUR) == 6
