"""Timed words to transcript segments: where segments end and how they read."""

from __future__ import annotations

from reeldocs.providers.base import Scene, Word
from reeldocs.providers.transcript import (
    MAX_SEGMENT_SECONDS,
    build_segments,
    describe_scene,
    segment_spans,
    tidy_sentence,
)


def timed(text: str, start: float = 0.0, step: float = 0.4, length: float = 0.3) -> list[Word]:
    """One word every `step` seconds from `start`, as Whisper writes them (punctuated)."""
    return [
        Word(token, start + index * step, start + index * step + length)
        for index, token in enumerate(text.split())
    ]


def texts(words: list[Word], spans: list[tuple[int, int]]) -> list[str]:
    return [" ".join(word.text for word in words[first:last]) for first, last in spans]


def test_segments_end_at_sentence_ends_once_they_last_a_few_seconds() -> None:
    words = timed(
        "Welcome to the tour. In this video we create a new project. "
        "Open the dashboard. Click new project in the top right corner and type a name."
    )
    assert texts(words, segment_spans(words, [])) == [
        # The first sentence lasts 1.5 s: too short alone, so the next one joins it.
        "Welcome to the tour. In this video we create a new project.",
        "Open the dashboard. Click new project in the top right corner and type a name.",
    ]


def test_a_question_or_exclamation_ends_a_segment_too() -> None:
    words = timed("Did you see the new export button on the toolbar? Great! Now press it.")
    assert texts(words, segment_spans(words, [], min_sentence_seconds=1.0)) == [
        "Did you see the new export button on the toolbar?",
        "Great! Now press it.",
    ]


def test_long_pauses_and_scene_cuts_end_segments_mid_sentence() -> None:
    words = timed("open the settings", 0.0) + timed("and press export", 3.0)
    assert texts(words, segment_spans(words, [])) == ["open the settings", "and press export"]
    steady = timed("open the settings page and press the export button")
    scenes = [Scene(0.0, 1.5), Scene(1.5, 9.0)]
    # The cut at 1.5 s falls between "page" (from 1.2 s) and "and" (from 1.6 s).
    assert texts(steady, segment_spans(steady, scenes)) == [
        "open the settings page",
        "and press the export button",
    ]


def test_no_segment_lasts_longer_than_the_limit() -> None:
    # Forty seconds of speech without a full stop: cut at the latest comma that leaves a
    # few seconds before it, else at the longest silence.
    run_on = ("click here, then type your name and " * 14).split()
    words = [Word(token, index * 0.4, index * 0.4 + 0.3) for index, token in enumerate(run_on)]
    spans = segment_spans(words, [])
    assert sum(last - first for first, last in spans) == len(words)
    for first, last in spans:
        assert words[last - 1].end - words[first].start <= MAX_SEGMENT_SECONDS
    assert all(words[last - 1].text == "here," for first, last in spans[:-1])

    no_punctuation = [Word("word", index * 0.5, index * 0.5 + 0.3) for index in range(80)]
    spans = segment_spans(no_punctuation, [])
    assert len(spans) >= 3
    for first, last in spans:
        assert no_punctuation[last - 1].end - no_punctuation[first].start <= MAX_SEGMENT_SECONDS
    assert segment_spans([], []) == []
    assert segment_spans([Word("Hello.", 1.0, 1.5)], []) == [(0, 1)]


def test_built_segments_read_as_sentences_and_name_their_scene() -> None:
    words = [Word("click", 1.0, 1.3), Word("save", 1.4, 1.8), Word("done", 4.0, 4.4)]
    scenes = [Scene(0.0, 3.0, text="Save dialog"), Scene(3.0, 75.5)]
    segments = build_segments(
        words, scenes, lambda first, last: " ".join(w.text for w in words[first:last])
    )
    assert [(s.start_time, s.end_time, s.spoken_content) for s in segments] == [
        (1.0, 1.8, "Click save."),
        (4.0, 4.4, "Done."),
    ]
    assert segments[0].words == words[:2]
    assert segments[0].visual_context == "Scene 1 of 2 (0:00–0:03): Save dialog"
    assert segments[1].visual_context == "Scene 2 of 2 (0:03–1:15)"
    assert describe_scene([], 0.0, 1.0) == ""
    assert (
        describe_scene([Scene(3600.0, 3725.0)], 3601.0, 3602.0) == "Scene 1 of 1 (1:00:00–1:02:05)"
    )
    assert tidy_sentence("  is  it saved?") == "Is it saved?"
    assert tidy_sentence("") == ""


def test_a_word_timed_a_little_early_stays_with_the_screen_it_is_said_on() -> None:
    # "Finally," starts 0.4 s before the cut but is mostly said after it
    words = [
        *timed("and enter their email address.", 34.0),
        Word("Finally,", 39.6, 40.7),
        *timed("export the documentation as Markdown.", 40.9),
    ]
    scenes = [Scene(30.0, 40.0), Scene(40.0, 50.0)]
    assert texts(words, segment_spans(words, scenes)) == [
        "and enter their email address.",
        "Finally, export the documentation as Markdown.",
    ]


def test_a_segment_cut_after_a_comma_ends_with_a_full_stop() -> None:
    assert tidy_sentence("finally,") == "Finally."
    assert tidy_sentence("open the tab;") == "Open the tab."
