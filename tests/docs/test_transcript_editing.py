"""Correcting the transcript through the API: the segment keeps its timing where its words
did not change, the subtitles in the spoken language follow at once, translations become
stale; an editor may correct, a viewer only read, an outsider sees nothing."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from reeldocs.docs.subtitles import parse_webvtt
from reeldocs.docs.transcript import retime_words
from reeldocs.providers.base import Word
from tests.auth.expect import assert_error
from tests.docs.conftest import Team, articles


def segments(team: Team) -> list[dict[str, Any]]:
    answer = team.editor.get(f"/api/videos/{team.video['id']}/segments")
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def subtitle_text(team: Team, language: str = "en") -> str:
    answer = team.editor.get(f"/api/videos/{team.video['id']}/subtitles.vtt?language={language}")
    assert answer.status_code == 200, answer.text
    return " ".join(" ".join(cue.text.split()) for cue in parse_webvtt(answer.text))


def test_segments_carry_their_id(team: Team) -> None:
    listed = segments(team)
    assert listed
    for segment in listed:
        uuid.UUID(segment["id"])
        assert segment["edited"] is False


def test_a_corrected_segment_changes_the_subtitles_at_once(team: Team) -> None:
    listed = segments(team)
    target = next(s for s in listed if "project" in s["spoken_content"].lower())
    assert "Zorblax" not in subtitle_text(team)
    corrected = target["spoken_content"].lower().replace("project", "Zorblax project")
    answer = team.editor.patch(f"/api/segments/{target['id']}", json={"spoken_content": corrected})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["spoken_content"] == corrected
    assert body["edited"] is True
    assert (body["start_time"], body["end_time"]) == (target["start_time"], target["end_time"])
    assert "Zorblax project" in subtitle_text(team)
    after = {s["id"]: s for s in segments(team)}
    assert after[target["id"]]["spoken_content"] == corrected
    # every translation was made from the transcript as it was
    assert all(article["stale"] for article in articles(team, "es"))
    assert not any(article["stale"] for article in articles(team, "en"))


def test_a_segment_that_says_too_much_is_refused(team: Team) -> None:
    target = segments(team)[0]
    answer = team.editor.patch(
        f"/api/segments/{target['id']}", json={"spoken_content": "word " * 1_500}
    )
    assert_error(answer, 422, "ValidationError")
    assert segments(team)[0] == target


def test_a_viewer_reads_the_transcript_but_may_not_correct_it(team: Team) -> None:
    target = segments(team)[0]
    assert team.viewer.get(f"/api/videos/{team.video['id']}/segments").json()[0] == target
    answer = team.viewer.patch(f"/api/segments/{target['id']}", json={"spoken_content": "no"})
    assert_error(answer, 403, "Forbidden")
    assert segments(team)[0] == target


def test_an_outsider_finds_no_segment(team: Team) -> None:
    target = segments(team)[0]
    for segment_id in (target["id"], str(uuid.uuid4())):
        answer = team.outsider.patch(f"/api/segments/{segment_id}", json={"spoken_content": "x"})
        assert_error(answer, 404, "NotFound")
    assert segments(team)[0] == target


WORDS = [Word("click", 1.0, 1.3), Word("new", 1.4, 1.6), Word("project", 1.7, 2.2)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Click new project.", [("Click", 1.0, 1.3), ("new", 1.4, 1.6), ("project.", 1.7, 2.2)]),
        ("click blue project", [("click", 1.0, 1.3), ("blue", 1.4, 1.6), ("project", 1.7, 2.2)]),
        ("click project", [("click", 1.0, 1.3), ("project", 1.7, 2.2)]),
        ("so click new", [("so", 0.5, 1.0), ("click", 1.0, 1.3), ("new", 1.4, 1.6)]),
    ],
    ids=["same-words", "one-word-replaced", "one-word-removed", "added-before-removed-after"],
)
def test_corrected_words_keep_the_timing_of_the_words_they_stand_for(
    text: str, expected: list[tuple[str, float, float]]
) -> None:
    timed = retime_words(WORDS, text, 0.5, 2.5)
    assert [(w.text, round(w.start, 3), round(w.end, 3)) for w in timed] == expected


def test_replaced_words_share_the_time_of_those_they_replace() -> None:
    timed = retime_words(WORDS, "click brand new Zorblax", 0.5, 2.5)
    assert [w.text for w in timed] == ["click", "brand", "new", "Zorblax"]
    assert timed[0].start == 1.0 and timed[-1].end == pytest.approx(2.2)
    assert all(a.end <= b.start + 1e-9 for a, b in zip(timed, timed[1:], strict=False))
    assert retime_words([], "anything at all", 0.0, 1.0) == []


def test_a_save_waits_for_publishing_and_is_told_when_its_article_went(
    team: Team, db_url: str
) -> None:
    """Publishing a run locks the video while it decides which articles people edited: a
    save arriving meanwhile waits, and when the run replaced its article it is told so."""
    article = articles(team)[-1]
    answers: list[httpx.Response] = []
    with psycopg.connect(db_url) as publishing:
        publishing.execute("SELECT 1 FROM videos WHERE id = %s FOR UPDATE", (team.video["id"],))
        saving = threading.Thread(
            target=lambda: answers.append(
                team.editor.patch(f"/api/articles/{article['id']}", json={"title": "Late"})
            )
        )
        saving.start()
        deadline = time.monotonic() + 60
        while not _waiting_for_a_lock(db_url):
            assert time.monotonic() < deadline, "the save never waited for the video"
            time.sleep(0.05)
        publishing.execute("DELETE FROM articles WHERE id = %s", (article["id"],))
        publishing.commit()
        saving.join(timeout=60)
    detail = assert_error(answers[0], 404, "NotFound")
    assert "processed again" in detail


def _waiting_for_a_lock(db_url: str) -> bool:
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ).fetchone()
        return row is not None and row[0] > 0
