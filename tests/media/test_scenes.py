from __future__ import annotations

from pathlib import Path

import pytest

from reeldocs.media import MediaError, SceneDetectionSettings, detect_scenes
from reeldocs.providers.base import Cancelled, Scene
from tests.media.conftest import SECONDS_PER_SLIDE, SLIDE_VIDEO_SECONDS, SLIDES
from tests.support.media_factory import (
    make_fading_video,
    make_scrolling_video,
    make_slide_video,
    make_slides_with_webcam_bubble,
    make_static_video,
    make_text_file,
)


def _assert_covers_the_video(scenes: list[Scene], duration: float) -> None:
    assert scenes[0].start == 0.0
    assert scenes[-1].end == pytest.approx(duration, abs=0.05)
    for before, after in zip(scenes, scenes[1:], strict=False):
        assert before.end == after.start
    assert all(scene.screenshot is None for scene in scenes)


@pytest.mark.parametrize("video_fixture", ["slide_video", "slide_webm"])
def test_every_text_only_slide_change_is_a_cut_and_nothing_else(
    request: pytest.FixtureRequest, video_fixture: str
) -> None:
    video: Path = request.getfixturevalue(video_fixture)

    scenes = detect_scenes(video)

    true_changes = [index * SECONDS_PER_SLIDE for index in range(1, len(SLIDES))]
    found = [scene.start for scene in scenes[1:]]
    assert len(found) == len(true_changes), found
    for cut, change in zip(found, true_changes, strict=True):
        assert abs(cut - change) <= 0.5, (cut, change)
    _assert_covers_the_video(scenes, SLIDE_VIDEO_SECONDS)


@pytest.mark.parametrize("size", [(320, 180), (1280, 720)])
def test_a_short_title_replaced_by_another_is_a_cut(tmp_path: Path, size: tuple[int, int]) -> None:
    # Two short titles of about the same width change only a few percent of the picture.
    titles = ["Open settings", "Save changes", "Invite your team"]
    path = make_slide_video(tmp_path / "titles.mp4", titles, 3.0, size=size)
    starts = [scene.start for scene in detect_scenes(path)]
    assert len(starts) == len(titles)
    for found, expected in zip(starts, (0.0, 3.0, 6.0), strict=True):
        assert found == pytest.approx(expected, abs=0.5)


def test_a_still_video_is_one_scene(tmp_path: Path) -> None:
    video = make_static_video(tmp_path / "still.mp4", 8.0)

    scenes = detect_scenes(video)

    assert len(scenes) == 1
    assert (scenes[0].start, scenes[0].end) == (0.0, pytest.approx(8.0, abs=0.05))


def test_a_slow_fade_is_not_a_cut(tmp_path: Path) -> None:
    video = make_fading_video(tmp_path / "fade.mp4", 8.0)

    assert len(detect_scenes(video)) == 1


def test_scrolling_is_one_cut_where_it_starts_not_one_per_second(tmp_path: Path) -> None:
    video = make_scrolling_video(tmp_path / "scroll.mp4", hold_seconds=2.0, scroll_seconds=3.0)

    scenes = detect_scenes(video)

    assert [round(scene.start) for scene in scenes] == [0, 2]
    _assert_covers_the_video(scenes, 7.0)


def test_a_webcam_bubble_neither_cuts_nor_hides_the_slide_changes(tmp_path: Path) -> None:
    video = make_slides_with_webcam_bubble(tmp_path / "bubble.mp4", SLIDES[:4], 2.5)

    scenes = detect_scenes(video)

    found = [scene.start for scene in scenes[1:]]
    assert len(found) == 3, found
    for cut, change in zip(found, [2.5, 5.0, 7.5], strict=True):
        assert abs(cut - change) <= 0.5, (cut, change)


def test_no_scene_is_shorter_than_the_minimum(tmp_path: Path) -> None:
    # Slides every 0.6 s: too fast to be worth a screenshot each.
    video = make_slide_video(tmp_path / "fast.mp4", SLIDES, 0.6)

    scenes = detect_scenes(video, settings=SceneDetectionSettings(minimum_scene_seconds=1.0))

    assert len(scenes) >= 2  # changes are still found, just not closer than a second
    assert all(scene.end - scene.start >= 1.0 for scene in scenes)
    _assert_covers_the_video(scenes, 0.6 * len(SLIDES))


def test_progress_moves_forward_and_ends_at_the_total(slide_video: Path) -> None:
    reports: list[tuple[float, float]] = []

    detect_scenes(slide_video, on_progress=lambda done, total: reports.append((done, total)))

    assert len(reports) >= 3
    assert [done for done, _ in reports] == sorted(done for done, _ in reports)
    assert reports[-1] == (pytest.approx(SLIDE_VIDEO_SECONDS, abs=0.05),) * 2


def test_should_stop_cancels_detection(slide_video: Path) -> None:
    with pytest.raises(Cancelled):
        detect_scenes(slide_video, should_stop=lambda: True)


def test_should_stop_is_asked_now_and_then_not_at_every_frame(slide_video: Path) -> None:
    asked: list[bool] = []

    def keep_going() -> bool:
        asked.append(True)
        return False

    detect_scenes(slide_video, should_stop=keep_going)

    samples = SLIDE_VIDEO_SECONDS * SceneDetectionSettings().samples_per_second
    assert 1 <= len(asked) < samples / 2


def test_detect_scenes_refuses_what_probe_refuses(tmp_path: Path) -> None:
    with pytest.raises(MediaError):
        detect_scenes(make_text_file(tmp_path / "notes.mp4"))
