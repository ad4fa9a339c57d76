"""Protected stretches of text: finding them, carrying them through an engine, checking."""

from __future__ import annotations

import re

import pytest

from reeldocs.providers.base import NO_TERMS, Terminology
from reeldocs.providers.markdown_text import check_translation, split_markdown
from reeldocs.providers.terminology import (
    Placeholders,
    carry_terms,
    missing_term,
    protected_spans,
    terms_to_name,
)

TERMS = Terminology(
    keep=frozenset({"Acme Uploader", "Acme", "workspace"}),
    forced={"dashboard": "tablero", "Dashboard": "Tablero"},
)


def spans(text: str, terms: Terminology = NO_TERMS) -> list[tuple[str, str, str]]:
    return [(span.kind, span.source, span.output) for span in protected_spans(text, terms)]


def test_interface_labels_in_quotes_and_bold_are_found() -> None:
    text = (
        "Click \"Open Settings\", then “Save” and 'Export'; the **Settings** page shows "
        "**Profile picture** too."
    )
    assert spans(text) == [
        ("label", '"Open Settings"', '"Open Settings"'),
        ("label", "“Save”", "“Save”"),
        ("label", "'Export'", "'Export'"),
        ("label", "**Settings**", "**Settings**"),
        ("label", "**Profile picture**", "**Profile picture**"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "The users' files and the team's videos don't move.",  # apostrophes
        'He said "this is not a label at all, it is a long quoted sentence here".',
        '"Do this. Then that." is two sentences',
        "Save it **now** and **never** share it.",  # emphasis, small letters
        "**Note:** and **Important** open notes, **Do not delete it.** warns.",
        "a ' stray quote and a \" stray double quote",
    ],
)
def test_quotes_and_emphasis_that_are_not_labels_are_left_to_translate(text: str) -> None:
    assert spans(text) == []


def test_code_urls_and_email_addresses_are_found_in_plain_lines() -> None:
    text = "Run `reeldocs serve`, open https://acme.example/docs. Mail help@acme.example."
    assert spans(text) == [
        ("code", "`reeldocs serve`", "`reeldocs serve`"),
        ("url", "https://acme.example/docs", "https://acme.example/docs"),
        ("url", "help@acme.example", "help@acme.example"),
    ]


def test_terms_match_whole_words_as_written_longest_first() -> None:
    text = "Acme Uploader, Acme, Acmes, acme, the dashboard, a Dashboard, dashboards, workspace."
    assert spans(text, TERMS) == [
        ("term", "Acme Uploader", "Acme Uploader"),
        ("term", "Acme", "Acme"),
        ("glossary", "dashboard", "tablero"),
        ("glossary", "Dashboard", "Tablero"),
        ("term", "workspace", "workspace"),
    ]


def test_terms_may_start_or_end_with_signs() -> None:
    terms = Terminology(keep=frozenset({"C++", ".NET", "Node.js"}))
    assert [s for _, s, _ in spans("Use C++, ASP.NET or Node.js; not C+ or Node.jsx.", terms)] == [
        "C++",
        ".NET",
        "Node.js",
    ]


def test_a_label_holding_a_term_is_one_span() -> None:
    assert spans('Press "Open Acme Uploader" now', TERMS) == [
        ("label", '"Open Acme Uploader"', '"Open Acme Uploader"')
    ]


def test_email_addresses_are_kept_out_of_markdown_text_runs() -> None:
    pieces = split_markdown("Write to help@acme.example or <ops@acme.example> for help.\n")
    assert [(p.kind, p.text) for p in pieces if p.kind == "url"] == [
        ("url", "help@acme.example"),
        ("url", "<ops@acme.example>"),
    ]


# ---- carrying spans through an engine ----------------------------------------------------

MARKS = Placeholders(
    mark=lambda index: f"<{index}>",
    pattern=re.compile(r"<(\d+)>"),
    index_of=lambda match: int(match.group(1)),
)


def shout(texts: list[str]) -> list[str]:
    """An engine that changes every word and leaves marks where they are."""
    return [re.sub(r"[a-z]+", lambda word: word.group(0).upper(), text) for text in texts]


def test_spans_ride_through_in_place_as_marks() -> None:
    calls: list[list[str]] = []

    def engine(texts: list[str]) -> list[str]:
        calls.append(texts)
        return shout(texts)

    texts = ["Open Acme Uploader and the dashboard.", "Nothing to keep here.", "**Save**"]
    assert carry_terms(texts, TERMS, engine, MARKS) == [
        "OPEN Acme Uploader AND THE tablero.",
        "NOTHING TO KEEP HERE.",
        "**Save**",  # all label: the engine is not asked
    ]
    assert calls == [["Open <0> and the <1>.", "Nothing to keep here."]]


def test_a_text_whose_marks_got_lost_is_translated_in_pieces_around_its_spans() -> None:
    calls: list[list[str]] = []

    def engine(texts: list[str]) -> list[str]:
        calls.append(texts)
        # loses the first mark of one text and repeats the mark of another
        answers = [text.replace("Open <0>", "Open").replace("<0>.", "<0> <0>.") for text in texts]
        return shout(answers)

    texts = ["Open Acme Uploader, then the workspace.", "See the dashboard.", "Use Acme."]
    assert carry_terms(texts, TERMS, engine, MARKS) == [
        "OPEN Acme Uploader, THEN THE workspace.",
        "SEE THE tablero.",
        "USE Acme.",
    ]
    assert calls == [
        ["Open <0>, then the <1>.", "See the <0>.", "Use <0>."],
        ["Open", ", then the", "See the", "Use"],  # the pieces with letters, in order
    ]


def test_a_text_that_already_holds_something_like_a_mark_goes_in_pieces() -> None:
    calls: list[list[str]] = []

    def engine(texts: list[str]) -> list[str]:
        calls.append(texts)
        return shout(texts)

    assert carry_terms(["Type <0> into Acme now"], TERMS, engine, MARKS) == [
        "TYPE <0> INTO Acme NOW"
    ]
    assert calls == [["Type <0> into", "now"]]


# ---- checking a translation ----------------------------------------------------------------


def test_a_dropped_term_or_an_unused_glossary_translation_is_named() -> None:
    source = ["Open Acme Uploader and the dashboard.", 'Press "Save".']
    good = ["Abra Acme Uploader y el tablero.", 'Pulse "Save".']
    assert missing_term(source, good, TERMS) is None
    assert missing_term(source, ["Abra Acmé Uploader y el tablero.", good[1]], TERMS) == (
        "The translation dropped or changed 'Acme Uploader', which must stay as written."
    )
    assert missing_term(source, ["Abra Acme Uploader y el panel.", good[1]], TERMS) == (
        "The translation does not use the glossary's translation 'tablero' for 'dashboard'."
    )
    assert missing_term(source, [good[0], "Pulse «Guardar»."], TERMS) == (
        "The translation dropped or changed '\"Save\"', which must stay as written."
    )


def test_the_markdown_checker_knows_labels_and_terms() -> None:
    source = "# Open Acme Uploader\n\nPress **Save** on the dashboard [video:00:05].\n"
    good = "# Abra Acme Uploader\n\nPulse **Save** en el tablero [video:00:05].\n"
    assert check_translation(source, good, TERMS) is None
    problem = check_translation(source, good.replace("**Save**", "**Guardar**"), TERMS)
    assert problem == "The translation dropped or changed '**Save**', which must stay as written."
    # Without the terms, only the label is checked.
    assert check_translation(source, good.replace("tablero", "panel")) is None


def test_a_prompt_names_labels_terms_and_glossary_translations_once() -> None:
    kept, forced = terms_to_name(
        ["Open Acme Uploader, then **Save**.", "Acme Uploader and the dashboard at `x`"], TERMS
    )
    assert kept == ["Acme Uploader", "**Save**"]
    assert forced == {"dashboard": "tablero"}
