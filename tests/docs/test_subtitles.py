import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reeldocs.docs.subtitle_text import BINDS_FORWARD, bare_word
from reeldocs.docs.subtitles import (
    MAX_CUE_SECONDS,
    MAX_LINE_CHARS,
    MIN_CUE_SECONDS,
    Cue,
    ReadingSpeed,
    build_source_cues,
    characters_per_second,
    parse_srt,
    parse_webvtt,
    readable_word,
    reading_speed,
    to_srt,
    to_webvtt,
    translate_cues,
    wrap_cue_text,
)
from reeldocs.providers.base import Segment, Word
from tests.docs.subtitle_checks import (
    GAP,
    check_layout,
    check_timing,
    check_track,
    make_stream,
    match_words,
    segments_of,
)

# Runs are repeatable (the same examples every time) and never timed: the machine is shared.
PROPERTIES = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# 150 to 180 words a minute at English's average word of 4.7 letters and a space.
NORMAL_RATES = st.floats(min_value=14.25, max_value=17.1)


@PROPERTIES
@given(
    rng=st.randoms(use_true_random=False),
    rate=NORMAL_RATES,
    punctuated=st.booleans(),
    sentences=st.integers(1, 14),
    long_words=st.sampled_from([0.0, 0.0, 0.3]),
    sentence_pause=st.sampled_from([(0.0, 1.2), (0.0, 0.1), (0.5, 3.0)]),
    start=st.floats(0, 30),
)
def test_normal_speech_meets_every_limit(
    rng: random.Random,
    rate: float,
    punctuated: bool,
    sentences: int,
    long_words: float,
    sentence_pause: tuple[float, float],
    start: float,
) -> None:
    words = make_stream(
        rng,
        rate=rate,
        sentences=sentences,
        punctuated=punctuated,
        long_words=long_words,
        sentence_pause=sentence_pause,
        start=start,
    )
    cues = build_source_cues(segments_of(words, rng))
    check_track(cues)
    check_timing(match_words(cues, words), normal_rate=True)


@PROPERTIES
@given(
    rng=st.randoms(use_true_random=False),
    rate=st.floats(min_value=8, max_value=40),
    sentences=st.integers(1, 10),
    sentence_pause=st.sampled_from([(0.0, 0.0), (0.0, 0.4), (0.3, 2.0)]),
    jitter=st.sampled_from([0.0, 0.5]),
)
def test_slow_and_fast_speech_keeps_the_rules_and_gives_fast_cues_all_the_time_there_is(
    rng: random.Random,
    rate: float,
    sentences: int,
    sentence_pause: tuple[float, float],
    jitter: float,
) -> None:
    words = make_stream(
        rng, rate=rate, sentences=sentences, sentence_pause=sentence_pause, jitter=jitter
    )
    cues = build_source_cues(segments_of(words, rng))
    check_track(cues)
    check_timing(match_words(cues, words), normal_rate=rate <= 17.1 and jitter <= 0.1)


@PROPERTIES
@given(
    rng=st.randoms(use_true_random=False),
    rate=NORMAL_RATES,
    sentences=st.integers(1, 12),
)
def test_cues_break_at_sentence_and_clause_ends_when_the_clauses_fit(
    rng: random.Random, rate: float, sentences: int
) -> None:
    words = make_stream(
        rng, rate=rate, sentences=sentences, sentence_pause=(0.0, 0.8), stray_pauses=0.0
    )
    clauses: list[list[str]] = [[]]
    for word in words:
        clauses[-1].append(word.text)
        if word.clause_end:
            clauses.append([])
    # a clause that is too long for one cue, or too short to be read alone, may need a
    # break inside it, and so may a pause; otherwise every cue ends where a clause does
    fits = all(
        20 <= len(" ".join(clause)) and wrap_cue_text(" ".join(clause)) is not None
        for clause in clauses
        if clause
    )
    cues = build_source_cues(segments_of(words, rng))
    matched = match_words(cues, words)
    if fits:
        for item in matched:
            assert item.words[-1].clause_end, item.cue


@PROPERTIES
@given(
    rng=st.randoms(use_true_random=False),
    rate=NORMAL_RATES,
    sentences=st.integers(1, 12),
    sentence_pause=st.sampled_from([(0.0, 0.0), (0.0, 1.0)]),
)
def test_unpunctuated_speech_is_not_cut_after_a_word_that_leads_into_the_next(
    rng: random.Random, rate: float, sentences: int, sentence_pause: tuple[float, float]
) -> None:
    words = make_stream(
        rng, rate=rate, sentences=sentences, punctuated=False, sentence_pause=sentence_pause
    )
    cues = build_source_cues(segments_of(words, rng))
    for item in match_words(cues, words)[:-1]:
        assert bare_word(item.words[-1].text) not in BINDS_FORWARD, item.cue


def test_a_tutorial_paragraph_reads_in_sentences_and_clauses() -> None:
    text = (
        "Welcome to the Acme product tour. In this video, you will learn how to create a "
        "project, upload your first video and invite your team. First, click the New Project "
        "button in the top right corner. Type a name for your project and press Enter."
    )
    words, moment = [], 0.5
    for token in text.split():
        duration = len(token) / 16
        words.append(Word(token, moment, moment + duration))
        moment += duration + 1 / 16 + (0.4 if token.endswith(".") else 0.0)
    cues = build_source_cues([Segment(0.5, moment, text, words=words)])
    assert [cue.text for cue in cues] == [
        "Welcome to the Acme product tour.",
        "In this video,\nyou will learn how to create a project,",
        "upload your first video\nand invite your team.",
        "First, click the New Project\nbutton in the top right corner.",
        "Type a name for your project\nand press Enter.",
    ]
    assert cues[0].start == 0.5
    assert reading_speed(cues).max_cps <= 17


def test_speech_too_fast_to_read_keeps_every_word_and_spreads_the_excess() -> None:
    rng = random.Random(5)
    rate = 26.0  # characters per second, with no pause anywhere: no way to reach 20 cps
    words = make_stream(
        rng,
        rate=rate,
        sentences=12,
        sentence_pause=(0.0, 0.0),
        clause_pause=(0.0, 0.0),
        stray_pauses=0.0,
        jitter=0.0,
    )
    cues = build_source_cues(segments_of(words, rng))
    check_track(cues)
    matched = match_words(cues, words)
    check_timing(matched, normal_rate=False)
    speeds = reading_speed(cues[:-1])  # the last cue may stay on into the silence after
    assert speeds.share_over_20 == 1.0
    # no cue carries much more than the speech itself: the excess is shared out
    assert speeds.max_cps <= rate * 1.2, speeds


def spoken_at(text: str, start: float, cps: float) -> tuple[list[Word], float]:
    """`text` said at `cps` characters per second from `start`; with when it ends."""
    words, moment = [], start
    for token in text.split():
        words.append(Word(token, moment, moment + len(token) / cps))
        moment += (len(token) + 1) / cps
    return words, moment - 1 / cps


def test_too_fast_neighbours_share_the_silence_between_them() -> None:
    first, first_end = spoken_at(
        "Open the project settings from the account menu on the left.", 0.0, 30
    )
    second, second_end = spoken_at(
        "Then invite your whole team from the members page by their email.",
        first_end + 0.45,
        25,
    )
    third, third_end = spoken_at(
        "That is all you need to know about inviting people.", second_end + 0.05, 15
    )
    cues = build_source_cues([Segment(0, third_end, "", words=first + second + third)])
    assert [cue.text.split("\n")[0] for cue in cues] == [
        "Open the project settings",
        "Then invite your whole team",
        "That is all you need to know",
    ]
    # 30 and 25 cps, with 0.45 s of silence between: shared, both read at about 25.3
    speeds = [characters_per_second(cue) for cue in cues]
    assert speeds[0] == pytest.approx(speeds[1], abs=0.1)
    assert speeds[0] < 25.5 and speeds[2] <= 17
    assert cues[1].start - cues[0].end == pytest.approx(GAP)


def test_a_pause_of_over_a_second_always_starts_a_new_cue() -> None:
    words = [Word("Open", 1.0, 1.3), Word("the", 1.3, 1.4), Word("settings", 1.4, 1.9)]
    words += [Word("and", 3.0, 3.2), Word("save.", 3.2, 3.6)]
    cues = build_source_cues([Segment(1.0, 3.6, "", words=words)])
    assert [cue.text for cue in cues] == ["Open the settings", "and save."]
    assert cues[0].start == 1.0 and cues[0].end <= 2.92
    assert cues[1].start >= 2.5 and cues[1].end == pytest.approx(4.0)


def test_a_short_cue_stays_a_second_and_meets_17_cps_when_the_silence_allows() -> None:
    cues = build_source_cues([Segment(5.0, 5.3, "hi", words=[Word("Hi.", 5.0, 5.3)])])
    assert cues == [Cue(5.0, 6.0, "Hi.")]
    said = "Open the project settings from the account menu."  # 48 characters
    words, moment = [], 2.0
    for token in said.split():
        words.append(Word(token, moment, moment + 0.2))
        moment += 0.25  # said in 2 s: 24 cps
    # with silence after it, the cue stays on screen until it reads at 17 cps
    cues = build_source_cues([Segment(2.0, moment, said, words=words)])
    assert len(cues) == 1 and cues[0].start == 2.0
    assert cues[0].end == pytest.approx(2.0 + 48 / 17, abs=0.001)
    # with the next sentence right after, it appears half a second early instead
    following = "Then invite your team from the members page."
    for index, token in enumerate(following.split()):
        words.append(Word(token, 4.0 + index * 0.3, 4.25 + index * 0.3))
    cues = build_source_cues([Segment(2.0, 6.5, f"{said} {following}", words=words)])
    assert [cue.text for cue in cues] == [
        "Open the project settings\nfrom the account menu.",
        "Then invite your team\nfrom the members page.",
    ]
    assert (cues[0].start, cues[0].end, cues[1].start) == (1.5, 3.92, 4.0)
    assert reading_speed(cues[:1]).max_cps <= 20


def test_without_word_timings_time_is_shared_by_characters() -> None:
    text = " ".join(["open", "internationalisation", "settings"] * 12)
    segment = Segment(10.0, 10.0 + (len(text) + 1) / 15, text)  # 15 cps
    cues = build_source_cues([segment])
    check_track(cues)
    assert cues[0].start == 10.0
    assert " ".join(" ".join(cue.text.split()) for cue in cues) == text
    # each cue is on screen at least while its words are said, and they are said at 15 cps
    for cue, following in zip(cues, cues[1:], strict=False):
        assert (following.start - cue.start) == pytest.approx((len(cue.text) + 1) / 15, abs=0.01)
    assert reading_speed(cues).max_cps <= 17


def test_segments_with_and_without_word_timings_together() -> None:
    timed = [Word("Click", 0.0, 0.3), Word("Save.", 0.3, 0.7)]
    segments = [
        Segment(3.0, 6.0, "then open the settings page and invite your team"),
        Segment(0.0, 0.7, "ignored when words are given", words=timed),
    ]
    cues = build_source_cues(segments)
    check_track(cues)
    assert " ".join(cue.text.replace("\n", " ") for cue in cues) == (
        "Click Save. then open the settings page and invite your team"
    )
    assert cues[0].text == "Click Save." and cues[1].start >= 2.5


def test_fillers_and_recogniser_marks_are_not_subtitled() -> None:
    words = [
        Word(t, i * 0.3, i * 0.3 + 0.25)
        for i, t in enumerate("<s> um hello <sil> the(2) uh world </s>".split())
    ]
    cues = build_source_cues([Segment(0, 3, "", words=words)])
    assert " ".join(c.text for c in cues) == "hello the world"
    assert readable_word(" Uh,") == "" and readable_word(" corner.") == "corner."


VOCABULARY = (
    "open the project dashboard click save settings upload video language a to and of "
    "members invite owner viewer editor export subtitles chapter article screenshot "
    "internationalisation configuration um uh <sil> [NOISE] the(2) supercalifragilistic"
).split()


def broken_segments(rng: random.Random) -> list[Segment]:
    """Segments as a damaged or merged transcript can be: overlapping, out of order, words
    of no length or glued into tokens longer than a line, some without word timings."""
    segments: list[Segment] = []
    moment = rng.uniform(0, 3)
    for _ in range(rng.randint(0, 12)):
        tokens = [rng.choice(VOCABULARY) for _ in range(rng.randint(1, 45))]
        if rng.random() < 0.1:
            tokens.append("x" * rng.randint(43, 100))
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
        moment = max(moment + duration + rng.uniform(-1.0, 4.0), 0.0)
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


def test_broken_transcripts_still_give_well_formed_tracks() -> None:
    rng = random.Random(20261128)
    total_cues = 0
    for _ in range(300):
        segments = broken_segments(rng)
        cues = build_source_cues(segments)
        check_track(cues)
        said = " ".join(" ".join(cue.text.split()) for cue in cues).split()
        assert said == expected_words(segments)  # nothing lost, nothing reordered
        total_cues += len(cues)
    assert total_cues > 1000  # the generator really exercised the rules


def test_wrapping_balances_lines_and_breaks_where_it_reads_well() -> None:
    assert wrap_cue_text("short line") == "short line"
    assert wrap_cue_text("open the project dashboard and click on the new project button") == (
        "open the project dashboard\nand click on the new project button"
    )
    assert wrap_cue_text("When the upload has finished, open the settings and invite them.") == (
        "When the upload has finished,\nopen the settings and invite them."
    )
    # a break before the preposition rather than a balanced one after "the"
    assert wrap_cue_text("Now you can open the settings of the new project") == (
        "Now you can open the settings\nof the new project"
    )
    assert wrap_cue_text("Open the settings page and invite your colleagues by email") == (
        "Open the settings page\nand invite your colleagues by email"
    )
    assert wrap_cue_text("word " * 30) is None
    assert wrap_cue_text("x" * 43) is None


def spanish_like(rng: random.Random, length: int) -> str:
    words = "el proyecto configuración de la página y los vídeos con subtítulos para".split()
    text: list[str] = []
    while len(" ".join(text)) < length:
        word = rng.choice(words)
        if rng.random() < 0.08:
            word += rng.choice([".", ",", ";"])
        text.append(word)
    return " ".join(text)


@PROPERTIES
@given(
    rng=st.randoms(use_true_random=False),
    rate=st.floats(min_value=10, max_value=30),
    sentences=st.integers(1, 10),
    growth=st.sampled_from([1.0, 1.3, 1.8, 4.0]),
)
def test_translated_cues_fit_two_lines_and_stay_inside_their_source_cue(
    rng: random.Random, rate: float, sentences: int, growth: float
) -> None:
    words = make_stream(rng, rate=rate, sentences=sentences)
    source = build_source_cues(segments_of(words, rng))
    texts = [spanish_like(rng, int(len(cue.text) * rng.uniform(0.8, growth))) for cue in source]
    translated = translate_cues(source, texts)
    check_translation(source, texts, translated)


def check_translation(source: list[Cue], texts: list[str], translated: list[Cue]) -> None:
    position = 0
    for cue, text in zip(source, texts, strict=True):
        parts: list[Cue] = []
        while position < len(translated) and translated[position].end <= cue.end + 1e-9:
            parts.append(translated[position])
            position += 1
        assert parts, cue
        assert " ".join(" ".join(part.text.split()) for part in parts) == " ".join(text.split())
        assert parts[0].start == cue.start and parts[-1].end == cue.end
        for part in parts:
            check_layout(part)
            assert cue.start <= part.start < part.end <= cue.end, (cue, part)
        for earlier, later in zip(parts, parts[1:], strict=False):
            assert later.start >= earlier.end, (earlier, later)
        if wrap_cue_text(text) is not None:
            assert len(parts) == 1 and parts[0].start == cue.start and parts[0].end == cue.end
        else:
            # time in proportion to characters, less the gaps between the parts, except that
            # a part gets at least a second when the span has a second for every part
            shown = sum(part.end - part.start for part in parts)
            total = sum(len(part.text) for part in parts)
            floored = round(shown * 1000) >= round(len(parts) * MIN_CUE_SECONDS * 1000)
            proportional = [shown * len(part.text) / total for part in parts]
            if floored and min(proportional) < MIN_CUE_SECONDS:
                for part in parts:
                    assert part.end - part.start >= MIN_CUE_SECONDS - 0.002, (part, parts)
                continue
            for part in parts:
                share = (part.end - part.start) / shown
                assert share == pytest.approx(len(part.text) / total, abs=0.01 + 0.003 / shown)
    assert position == len(translated)


def test_a_long_translation_is_split_at_a_sentence_end_within_the_source_span() -> None:
    source = [Cue(10.0, 14.0, "Click New Project.\nThen type a name and press Enter.")]
    text = (
        "Haga clic en Nuevo proyecto en la esquina superior. "
        "Luego escriba un nombre para el proyecto y pulse Intro."
    )
    translated = translate_cues(source, [text])
    assert [cue.text for cue in translated] == [
        "Haga clic en Nuevo proyecto\nen la esquina superior.",
        "Luego escriba un nombre\npara el proyecto y pulse Intro.",
    ]
    assert translated[0].start == 10.0 and translated[-1].end == 14.0
    assert translated[1].start - translated[0].end == pytest.approx(GAP)
    check_translation(source, [text], translated)


def test_translations_fitting_two_lines_keep_the_source_timing() -> None:
    source = [Cue(1.0, 2.5, "Open the settings."), Cue(2.58, 4.0, "Invite your team.")]
    translated = translate_cues(source, ["Abra la configuración.", "  Invite a su equipo. "])
    assert translated == [
        Cue(1.0, 2.5, "Abra la configuración."),
        Cue(2.58, 4.0, "Invite a su equipo."),
    ]
    assert translate_cues(source, ["", "x"])[0].text == "Open the settings."


def test_translating_needs_one_text_per_cue() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        translate_cues([Cue(0, 1, "a"), Cue(1, 2, "b")], ["uno"])


def test_reading_speed_of_a_track() -> None:
    cues = [
        Cue(0.0, 1.0, "x" * 10),
        Cue(2.0, 3.0, "x" * 18),
        Cue(4.0, 6.0, "x" * 21 + "\n" + "y" * 20),
    ]
    speed = reading_speed(cues)
    assert speed == ReadingSpeed(
        cues=3,
        max_cps=21.0,
        mean_cps=pytest.approx((10 + 18 + 21) / 3),
        p95_cps=21.0,
        share_over_17=pytest.approx(2 / 3),
        share_over_20=pytest.approx(1 / 3),
    )
    many = [Cue(i, i + 1, "x" * (i + 1)) for i in range(40)]
    assert reading_speed(many).p95_cps == 38  # nearest rank: the 38th of 40
    assert reading_speed([]) == ReadingSpeed(0, 0.0, 0.0, 0.0, 0.0, 0.0)


VTT_FILE = re.compile(
    r"WEBVTT\n\n"
    r"(?:\d+\n\d{2}:[0-5]\d:[0-5]\d\.\d{3} --> \d{2}:[0-5]\d:[0-5]\d\.\d{3}\n"
    r"(?:[^\n<>]*[^\s<>][^\n<>]*\n){1,2}(?:\n|$))*"
)
SRT_FILE = re.compile(
    r"(?:\d+\n\d{2}:[0-5]\d:[0-5]\d,\d{3} --> \d{2}:[0-5]\d:[0-5]\d,\d{3}\n"
    r"(?:[^\n]*\S[^\n]*\n){1,2}(?:\n|$))*"
)


def test_webvtt_and_srt_files_are_well_formed_and_read_back() -> None:
    rng = random.Random(99)
    for _ in range(40):
        cues = build_source_cues(broken_segments(rng))
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


def test_cues_are_never_longer_than_seven_seconds_even_for_slow_speech() -> None:
    words = [Word(f"word{i}", i * 0.9, i * 0.9 + 0.8) for i in range(40)]
    cues = build_source_cues([Segment(0, 36, "", words=words)])
    check_track(cues)
    assert all(cue.end - cue.start <= MAX_CUE_SECONDS for cue in cues)


def test_a_split_translation_gives_every_part_a_second_when_its_cue_has_the_time() -> None:
    # "Finalmente," alone would get 0.7 s of the 6 s in proportion to its characters
    source = [Cue(39.62, 45.58, "Finally, export the documentation\nas Markdown or MDX.")]
    text = (
        "Finalmente, exportación la documentación como markdown o MDX del tabulador de exportación."
    )
    translated = translate_cues(source, [text])
    assert len(translated) == 2
    assert all(cue.end - cue.start >= MIN_CUE_SECONDS for cue in translated), translated
    assert translated[0].start == 39.62 and translated[-1].end == 45.58
