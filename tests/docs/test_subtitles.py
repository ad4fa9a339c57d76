import random
import re

import pytest

from reeldocs.docs.subtitles import (
    MAX_CUE_CHARS,
    MAX_CUE_SECONDS,
    MAX_LINE_CHARS,
    MIN_CUE_SECONDS,
    MIN_VISIBLE_SECONDS,
    Cue,
    build_source_cues,
    parse_srt,
    parse_webvtt,
    readable_word,
    to_srt,
    to_webvtt,
    translate_cues,
    wrap_cue_text,
)
from reeldocs.providers.base import Segment, Word

VOCABULARY = (
    "open the project dashboard click save settings upload video language a to and of "
    "members invite owner viewer editor export subtitles chapter article screenshot "
    "internationalisation configuration um uh <sil> [NOISE] the(2) supercalifragilistic"
).split()
EPSILON = 1e-6


def random_segments(rng: random.Random, *, overlapping: bool = True) -> list[Segment]:
    segments: list[Segment] = []
    moment = rng.uniform(0, 3)
    for _ in range(rng.randint(0, 12)):
        count = rng.randint(1, 45)
        tokens = [rng.choice(VOCABULARY) for _ in range(count)]
        if rng.random() < 0.1:
            tokens.append("x" * rng.randint(43, 100))  # a token longer than a subtitle line
        if rng.random() < 0.3:
            tokens[rng.randrange(len(tokens))] += rng.choice([".", "?", "!", ","])
        duration = rng.uniform(0.05, 25)
        words: list[Word] = []
        if rng.random() < 0.7:
            position = moment
            for token in tokens:
                length = rng.uniform(0.0, 0.6) if rng.random() > 0.05 else 0.0
                words.append(Word(token, position, position + length))
                position += length + (rng.uniform(0, 2.5) if rng.random() < 0.1 else 0.02)
            duration = max(position - moment, 0.01)
        segments.append(Segment(moment, moment + duration, " ".join(tokens), words=words))
        # segments sometimes overlap, as merged recogniser output can
        moment += duration + rng.uniform(-1.0 if overlapping else 0.0, 4.0)
        moment = max(moment, 0.0)
    rng.shuffle(segments)
    return segments


def expected_words(segments: list[Segment]) -> list[str]:
    words: list[str] = []
    for segment in sorted(segments, key=lambda s: (s.start_time, s.end_time)):
        tokens = [w.text for w in segment.words] or segment.spoken_content.split()
        for token in tokens:
            readable = readable_word(token)
            words.extend(readable[i : i + MAX_LINE_CHARS] for i in range(0, len(readable), 42))
    return [w for w in words if w]


def check_cue_rules(cues: list[Cue], segments: list[Segment], *, overlapping: bool) -> None:
    first_moment = min((s.start_time for s in segments), default=0.0)
    last_moment = max((s.end_time for s in segments), default=0.0)
    for index, cue in enumerate(cues):
        lines = cue.text.split("\n")
        assert 1 <= len(lines) <= 2, cue
        assert all(0 < len(line) <= MAX_LINE_CHARS for line in lines), cue
        assert len("".join(lines)) <= MAX_CUE_CHARS, cue
        assert cue.start >= 0
        assert cue.end > cue.start, cue
        assert cue.end - cue.start <= MAX_CUE_SECONDS + EPSILON, cue
        if not overlapping:  # overlapping input is pushed later, so only then can it drift
            assert first_moment - MIN_CUE_SECONDS - EPSILON <= cue.start, cue
            # speech too fast to read gets cues of a fifth of a second, which may run on
            squeezed = sum(1 for c in cues if c.end - c.start < MIN_CUE_SECONDS - EPSILON)
            allowance = MIN_CUE_SECONDS + MIN_VISIBLE_SECONDS * squeezed
            assert cue.end <= last_moment + allowance + EPSILON, cue
        previous_end = cues[index - 1].end if index else 0.0
        if index + 1 < len(cues):
            assert cue.end <= cues[index + 1].start + EPSILON, (cue, cues[index + 1])
        if cue.end - cue.start < MIN_CUE_SECONDS - EPSILON:
            # shorter than a second only when squeezed between its neighbours
            squeezed_after = abs(cue.start - previous_end) < EPSILON
            squeezed_before = index + 1 < len(cues) and abs(cues[index + 1].start - cue.end) < 1e-3
            assert squeezed_after and squeezed_before or cue.end - cue.start >= 0.2, cue


def test_cues_follow_the_subtitle_rules_for_many_random_inputs() -> None:
    rng = random.Random(20261128)
    total_cues = 0
    for round_number in range(300):
        overlapping = round_number % 2 == 0
        segments = random_segments(rng, overlapping=overlapping)
        cues = build_source_cues(segments)
        check_cue_rules(cues, segments, overlapping=overlapping)
        said = " ".join(" ".join(cue.text.split()) for cue in cues).split()
        assert said == expected_words(segments)  # nothing lost, nothing reordered
        total_cues += len(cues)
    assert total_cues > 1000  # the generator really exercised the rules


def test_word_timings_decide_when_cues_start_and_end() -> None:
    words = [Word("open", 3.2, 3.5), Word("the", 3.5, 3.6), Word("settings", 3.6, 4.4)]
    words += [Word("then", 9.0, 9.3), Word("save", 9.3, 10.5)]
    cues = build_source_cues([Segment(3.0, 11.0, "ignored text", words=words)])
    assert [(c.start, c.end, c.text) for c in cues] == [
        (3.2, 4.4, "open the settings"),
        (9.0, 10.5, "then save"),
    ]


def test_without_word_timings_time_is_shared_by_word_count() -> None:
    text = " ".join(f"word{i}" for i in range(40))  # 40 words over 20 s: half a second each
    cues = build_source_cues([Segment(10.0, 30.0, text)])
    check_cue_rules(cues, [Segment(10.0, 30.0, text)], overlapping=False)
    assert cues[0].start == 10.0
    assert cues[-1].end == 30.0
    position = 10.0
    for cue in cues:
        words_in_cue = len(cue.text.split())
        assert cue.start == pytest.approx(position)
        assert cue.end == pytest.approx(position + 0.5 * words_in_cue)
        position = cue.end


def test_short_cues_stay_a_second_on_screen_when_nothing_follows_closely() -> None:
    cues = build_source_cues([Segment(5.0, 5.3, "hi", words=[Word("hi", 5.0, 5.3)])])
    assert cues == [Cue(5.0, 6.0, "hi")]


def test_fillers_and_recogniser_marks_are_not_subtitled() -> None:
    words = [
        Word(t, i * 0.3, i * 0.3 + 0.25)
        for i, t in enumerate("<s> um hello <sil> the(2) uh world </s>".split())
    ]
    cues = build_source_cues([Segment(0, 3, "", words=words)])
    assert " ".join(c.text for c in cues) == "hello the world"


def test_wrapping_balances_lines_and_reports_what_does_not_fit() -> None:
    assert wrap_cue_text("short line") == "short line"
    wrapped = wrap_cue_text("open the project dashboard and click on the new project button")
    assert wrapped == "open the project dashboard and\nclick on the new project button"
    assert wrap_cue_text("word " * 30) is None
    assert wrap_cue_text("x" * 43) is None
    three = wrap_cue_text("word " * 20, max_lines=3)
    assert three is not None and len(three.split("\n")) == 3


def test_translated_cues_keep_the_source_timings_exactly() -> None:
    rng = random.Random(7)
    cues = build_source_cues(random_segments(rng) + random_segments(rng))
    assert len(cues) > 5
    texts = []
    for index, cue in enumerate(cues):
        size = len(cue.text) + (index % 3) * 40  # some translations are much longer
        texts.append(" ".join(["palabra"] * (size // 8 + 1)))
    translated = translate_cues(cues, texts)
    assert [(c.start, c.end) for c in translated] == [(c.start, c.end) for c in cues]
    for cue, text in zip(translated, texts, strict=True):
        lines = cue.text.split("\n")
        assert " ".join(lines) == " ".join(text.split())
        fits_two = len(" ".join(text.split())) <= 2 * MAX_LINE_CHARS - 10
        if fits_two:
            assert len(lines) <= 2
        assert len(lines) <= 3
        if all(len(line) <= MAX_LINE_CHARS for line in lines) is False:
            assert len(lines) == 3  # only a translation too long for 3×42 exceeds a line


def test_translating_needs_one_text_per_cue() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        translate_cues([Cue(0, 1, "a"), Cue(1, 2, "b")], ["uno"])


VTT_FILE = re.compile(
    r"WEBVTT\n\n"
    r"(?:\d+\n\d{2}:[0-5]\d:[0-5]\d\.\d{3} --> \d{2}:[0-5]\d:[0-5]\d\.\d{3}\n"
    r"(?:[^\n<>]*[^\s<>][^\n<>]*\n){1,3}(?:\n|$))*"
)
SRT_FILE = re.compile(
    r"(?:\d+\n\d{2}:[0-5]\d:[0-5]\d,\d{3} --> \d{2}:[0-5]\d:[0-5]\d,\d{3}\n"
    r"(?:[^\n]*\S[^\n]*\n){1,3}(?:\n|$))*"
)


def test_webvtt_and_srt_files_are_well_formed_and_read_back() -> None:
    rng = random.Random(99)
    for _ in range(40):
        cues = build_source_cues(random_segments(rng))
        vtt, srt = to_webvtt(cues), to_srt(cues)
        assert VTT_FILE.fullmatch(vtt), vtt
        assert SRT_FILE.fullmatch(srt), srt
        numbers = re.findall(r"^(\d+)\n\d{2}:", srt, flags=re.MULTILINE)
        assert numbers == [str(i) for i in range(1, len(cues) + 1)]
        assert parse_webvtt(vtt) == cues
        assert parse_srt(srt) == cues


def test_timestamps_past_an_hour_and_markup_in_text() -> None:
    cues = [Cue(3725.5, 3727.25, "use <b> & -->\nthen save"), Cue(36000.0, 36001.001, "end")]
    vtt = to_webvtt(cues)
    assert vtt == (
        "WEBVTT\n\n"
        "1\n01:02:05.500 --> 01:02:07.250\nuse &lt;b&gt; &amp; --&gt;\nthen save\n\n"
        "2\n10:00:00.000 --> 10:00:01.001\nend\n"
    )
    assert to_srt(cues).startswith(
        "1\n01:02:05,500 --> 01:02:07,250\nuse <b> & -->\nthen save\n\n2\n"
    )
    assert parse_webvtt(vtt) == cues


def test_malformed_subtitle_files_are_refused() -> None:
    with pytest.raises(ValueError, match="WEBVTT"):
        parse_webvtt("1\n00:00:00.000 --> 00:00:01.000\nhi\n")
    with pytest.raises(ValueError, match="not valid"):
        parse_webvtt("WEBVTT\n\n00:00:00,000 --> 00:00:01,000\nhi\n")
    with pytest.raises(ValueError, match="numbered"):
        parse_srt("2\n00:00:00,000 --> 00:00:01,000\nhi\n")
    with pytest.raises(ValueError, match="no text"):
        parse_srt("1\n00:00:00,000 --> 00:00:01,000\n")
