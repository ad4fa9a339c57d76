from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reeldocs.media import MediaError, grab_frames, screenshot_name
from tests.media.conftest import SECONDS_PER_SLIDE, SLIDES
from tests.support.media_factory import make_audio_only, make_slide_video, render_slide


def _slide_shown(screenshot: Path) -> int:
    """Which slide the screenshot shows: the rendered slide it differs least from."""
    picture = np.asarray(Image.open(screenshot).convert("L"), dtype=np.float32)
    differences = [
        np.abs(picture - np.asarray(render_slide(text, (320, 180)).convert("L"))).mean()
        for text in SLIDES
    ]
    return int(np.argmin(differences))


def test_screenshot_names_come_from_the_time_in_milliseconds() -> None:
    assert screenshot_name(12.5) == "t000012500.webp"
    assert screenshot_name(0.0) == "t000000000.webp"
    assert screenshot_name(3599.9996) == "t003600000.webp"


def test_each_screenshot_shows_the_slide_on_screen_at_its_time(
    tmp_path: Path, slide_video: Path
) -> None:
    # Unsorted, with a repeat, one exactly on a slide change and one past the end.
    times = [7.6, 0.4, 2.5, 14.9, 3.1, 0.4, 40.0]

    shots = grab_frames(slide_video, times, tmp_path / "shots")

    assert set(shots) == set(times)
    for seconds, path in shots.items():
        assert path == tmp_path / "shots" / screenshot_name(seconds)
        with Image.open(path) as image:
            assert (image.format, image.size) == ("WEBP", (320, 180))
        expected_slide = min(int(seconds // SECONDS_PER_SLIDE), len(SLIDES) - 1)
        assert _slide_shown(path) == expected_slide, seconds


def test_grabbing_again_rewrites_the_same_files(tmp_path: Path, slide_video: Path) -> None:
    out = tmp_path / "shots"
    first = grab_frames(slide_video, [1.0, 6.0], out)
    second = grab_frames(slide_video, [6.0, 1.0], out)

    assert first == second
    assert sorted(path.name for path in out.iterdir()) == ["t000001000.webp", "t000006000.webp"]


def test_wide_videos_are_scaled_down_to_the_width_asked(tmp_path: Path) -> None:
    video = make_slide_video(tmp_path / "wide.mp4", SLIDES[:1], 1.0, size=(640, 360))

    shots = grab_frames(video, [0.5], tmp_path / "shots", width=320)

    with Image.open(shots[0.5]) as image:
        assert image.size == (320, 180)


def test_phone_videos_are_turned_upright(tmp_path: Path) -> None:
    video = make_slide_video(tmp_path / "phone.mp4", SLIDES[:1], 1.0, display_rotation=-90)

    shots = grab_frames(video, [0.5], tmp_path / "shots")

    with Image.open(shots[0.5]) as image:
        assert image.size == (180, 320)
        upright = image.convert("L").rotate(90, expand=True)  # back to how it was drawn
    drawn = np.asarray(render_slide(SLIDES[0], (320, 180)).convert("L"), dtype=np.float32)
    assert np.abs(np.asarray(upright, dtype=np.float32) - drawn).mean() < 4


def test_no_times_means_no_work(tmp_path: Path, slide_video: Path) -> None:
    assert grab_frames(slide_video, [], tmp_path / "shots") == {}
    assert not (tmp_path / "shots").exists()


def test_a_file_without_pictures_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MediaError):
        grab_frames(make_audio_only(tmp_path / "voice.mp4"), [1.0], tmp_path / "shots")
