import math
import re

import pytest

from reeldocs.docs.references import (
    find_video_references,
    format_timestamp,
    parse_timestamp,
    reference_seconds,
    replace_video_references,
    video_reference,
)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "[video:00:00]"),
        (5.99, "[video:00:05]"),
        (83.4, "[video:01:23]"),
        (3599.999, "[video:59:59]"),
        (3600, "[video:1:00:00]"),
        (3723, "[video:1:02:03]"),
        (36_000 + 59 * 60 + 7, "[video:10:59:07]"),
    ],
)
def test_references_are_written_as_minutes_and_seconds_or_hours(
    seconds: float, expected: str
) -> None:
    assert video_reference(seconds) == expected


@pytest.mark.parametrize("bad", [-1, math.nan, math.inf])
def test_a_moment_must_be_a_real_non_negative_time(bad: float) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        format_timestamp(bad)


def test_every_written_reference_reads_back_as_its_second() -> None:
    for seconds in range(0, 4 * 3600, 37):
        reference = video_reference(seconds + 0.5)
        assert reference_seconds(reference) == seconds
        assert parse_timestamp(reference[len("[video:") : -1]) == seconds


def test_hand_written_long_minutes_are_accepted() -> None:
    assert reference_seconds("[video:75:10]") == 75 * 60 + 10
    assert parse_timestamp(" 2:05 ") == 125


@pytest.mark.parametrize("bad", ["1:5", "01:75", "ab:cd", "", "1:2:3"])
def test_malformed_times_are_refused_with_a_sentence(bad: str) -> None:
    with pytest.raises(ValueError, match="MM:SS"):
        parse_timestamp(bad)


def test_all_references_are_found_with_their_positions() -> None:
    markdown = (
        "# Intro\n\n[video:00:05] Open the page, then at [video:1:02:03] save.\n"
        "Not references: [video:1:5], [video:01:75], [audio:00:10], video:00:10.\n"
        "- list item [video:12:00]"
    )
    found = find_video_references(markdown)
    assert [r.text for r in found] == ["[video:00:05]", "[video:1:02:03]", "[video:12:00]"]
    assert [r.seconds for r in found] == [5, 3723, 720]
    for reference in found:
        assert markdown[reference.start : reference.end] == reference.text


def test_references_in_code_are_not_turned_into_links() -> None:
    markdown = (
        "See [video:00:10] and `[video:00:20]`.\n\n"
        "```\nexample: [video:00:30]\n```\n\n"
        "Then [video:00:40]."
    )
    linked = replace_video_references(markdown, lambda r: f"<a data-seek='{r.seconds}'>")
    assert linked == (
        "See <a data-seek='10'> and `[video:00:20]`.\n\n"
        "```\nexample: [video:00:30]\n```\n\n"
        "Then <a data-seek='40'>."
    )


def test_only_code_between_fences_is_left_alone() -> None:
    markdown = (
        "a [video:00:01]\n\n```\nx [video:00:02]\n```\n\nb [video:00:03]\n\n"
        "~~~~\n[video:00:04]\n~~~~\nc [video:00:05] ``code [video:00:06]`` d\n"
        "```\n[video:00:07]\n```"
    )
    linked = replace_video_references(markdown, lambda r: f"<{r.seconds}>")
    assert re.findall(r"<(\d+)>", linked) == ["1", "3", "5"]
    assert linked.count("[video:") == 4
