"""Chapters of two runs paired by where they sit in the video, not by their titles."""

from __future__ import annotations

from reeldocs.docs.matching import chapter_spans, pair_spans


def test_each_chapter_covers_the_video_until_the_next_one() -> None:
    spans = chapter_spans([("b", 10.0), ("a", 0.0), ("c", 25.0)], 40.0)
    assert [(s.key, s.start, s.end) for s in spans] == [
        ("a", 0.0, 10.0),
        ("b", 10.0, 25.0),
        ("c", 25.0, 40.0),
    ]


def test_chapters_that_moved_a_little_are_still_the_same() -> None:
    old = chapter_spans([("intro", 0.0), ("setup", 12.0), ("invite", 30.0)], 45.0)
    new = chapter_spans([("n0", 0.0), ("n1", 13.5), ("n2", 29.0)], 45.0)
    assert pair_spans(old, new) == {"intro": "n0", "setup": "n1", "invite": "n2"}


def test_a_split_chapter_goes_to_the_part_sharing_the_most_time() -> None:
    old = chapter_spans([("intro", 0.0), ("setup", 10.0)], 40.0)
    new = chapter_spans([("n0", 0.0), ("n1", 10.0), ("n2", 18.0)], 40.0)
    assert pair_spans(old, new) == {"intro": "n0", "setup": "n2"}


def test_each_new_chapter_is_taken_once() -> None:
    old = chapter_spans([("a", 0.0), ("b", 10.0), ("c", 20.0)], 30.0)
    new = chapter_spans([("whole", 0.0)], 30.0)
    assert pair_spans(old, new) == {"a": "whole"}


def test_chapters_starting_together_pair_even_when_one_covers_no_time() -> None:
    old = chapter_spans([("a", 5.0), ("b", 5.0)], 5.0)
    new = chapter_spans([("x", 5.0)], 5.0)
    assert len(pair_spans(old, new)) == 1
