"""The one-pass analysis: scenes as `detect_scenes` finds them, a screenshot of each taken
from the same decoded frames, and the stretches where the picture stands still."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reeldocs.media import MediaError, detect_scenes
from reeldocs.media.analysis import StillPictures, analyse_video
from reeldocs.providers.base import Cancelled
from tests.media.conftest import SECONDS_PER_SLIDE, SLIDES
from tests.support.media_factory import (
    make_fading_video,
    make_scrolling_video,
    make_text_file,
    make_typing_video,
    render_slide,
)

SAMPLE_SECONDS = 1 / 6  # how far apart analysed frames are


def _closest_slide(screenshot: Path, slides: list[str], size: tuple[int, int]) -> int:
    picture = np.asarray(Image.open(screenshot).convert("L"), dtype=np.float32)
    differences = [
        np.abs(picture - np.asarray(render_slide(text, size).convert("L"))).mean()
        for text in slides
    ]
    return int(np.argmin(differences))


def test_each_scene_gets_a_screenshot_of_its_own_slide_a_moment_in(
    tmp_path: Path, slide_video: Path
) -> None:
    analysis = analyse_video(slide_video, tmp_path / "shots")

    assert [(s.start, s.end) for s in analysis.scenes] == [
        (s.start, s.end) for s in detect_scenes(slide_video)
    ]
    assert len(analysis.scenes) == len(SLIDES) == len(analysis.stills.shots)
    for index, (scene, shot) in enumerate(zip(analysis.scenes, analysis.stills.shots, strict=True)):
        assert scene.screenshot == shot.path.name
        assert shot.path.parent == tmp_path / "shots" and shot.path.is_file()
        # A second in, or a third of the way into a scene shorter than three seconds.
        expected = scene.start + min(1.0, (scene.end - scene.start) / 3)
        assert shot.seconds == pytest.approx(expected, abs=SAMPLE_SECONDS + 0.01)
        with Image.open(shot.path) as image:
            assert (image.format, image.size) == ("WEBP", (320, 180))
        assert _closest_slide(shot.path, SLIDES, (320, 180)) == index


def test_still_slides_are_still_and_their_changes_are_not(
    slide_video: Path, tmp_path: Path
) -> None:
    analysis = analyse_video(slide_video, tmp_path / "shots")

    for index in range(len(SLIDES)):
        start = index * SECONDS_PER_SLIDE
        inside = (start + 0.4, start + SECONDS_PER_SLIDE - 0.4)
        assert analysis.stills.same_picture(*inside), index
        shot = analysis.stills.shot_showing(start + SECONDS_PER_SLIDE / 2)
        assert shot is not None and shot == analysis.stills.shots[index]
        if index:
            assert not analysis.stills.same_picture(start - 0.4, start + 0.4), index


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_one_typed_character_ends_a_still_stretch(tmp_path: Path, size: tuple[int, int]) -> None:
    # 12-pixel interface text: a change far below what makes a scene cut.
    texts = ["Name: Ann", "Name: Anna", "Name: Anna|"]
    video = make_typing_video(tmp_path / "typing.mp4", texts, 2.0, size=size)

    analysis = analyse_video(video, tmp_path / "shots")

    assert len(analysis.scenes) == 1
    for start in (0.0, 2.0, 4.0):
        assert analysis.stills.same_picture(start + 0.3, start + 1.7), start
    assert not analysis.stills.same_picture(1.0, 3.0)  # the "a" typed
    assert not analysis.stills.same_picture(3.0, 5.0)  # the text cursor shown
    assert analysis.stills.shot_showing(1.5) is analysis.stills.shots[0]
    assert analysis.stills.shot_showing(3.0) is None and analysis.stills.shot_showing(5.0) is None


def test_a_slow_fade_never_passes_for_a_still_picture(tmp_path: Path) -> None:
    video = make_fading_video(tmp_path / "fade.mp4", 6.0)

    analysis = analyse_video(video, tmp_path / "shots")

    assert len(analysis.scenes) == 1
    assert not analysis.stills.same_picture(0.5, 5.5)
    assert all(last - first < 3.0 for first, last in analysis.stills.still)


def test_scrolling_is_not_still_but_the_page_before_it_is(tmp_path: Path) -> None:
    video = make_scrolling_video(tmp_path / "scroll.mp4", 2.0, 2.0)

    analysis = analyse_video(video, tmp_path / "shots")

    assert analysis.stills.same_picture(0.2, 1.8)
    assert not any(first < 3.0 < last for first, last in analysis.stills.still)
    assert analysis.stills.shot_showing(3.0) is None


def test_saved_stretches_load_back_with_their_shots(tmp_path: Path, slide_video: Path) -> None:
    work = tmp_path / "work"
    analysis = analyse_video(slide_video, work / "screenshots")
    analysis.stills.save(work / "still.json")

    loaded = StillPictures.load(work / "still.json")

    assert loaded is not None
    assert loaded.still == analysis.stills.still and loaded.shots == analysis.stills.shots
    (work / "damaged.json").write_text("{not json")
    assert StillPictures.load(work / "damaged.json") is None
    assert StillPictures.load(work / "missing.json") is None


def test_should_stop_cancels_the_analysis(tmp_path: Path, slide_video: Path) -> None:
    with pytest.raises(Cancelled):
        analyse_video(slide_video, tmp_path / "shots", should_stop=lambda: True)


def test_what_probe_refuses_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="text, not video"):
        analyse_video(make_text_file(tmp_path / "notes.mp4"), tmp_path / "shots")


def test_whole_seconds_reuse_a_shot_of_the_picture_on_screen_then(
    tmp_path: Path, slide_video: Path
) -> None:
    # The docs refer to whole seconds ([video:MM:SS]); slides change every 2.5 s here.
    analysis = analyse_video(slide_video, tmp_path / "shots")

    reused = 0
    for second in range(int(SECONDS_PER_SLIDE * len(SLIDES))):
        shot = analysis.stills.shot_showing(float(second))
        if shot is None:
            continue
        reused += 1
        on_screen = int(second // SECONDS_PER_SLIDE)
        assert shot == analysis.stills.shots[on_screen], second
    assert reused >= 12  # of 15: only a moment right at a change may need its own frame
