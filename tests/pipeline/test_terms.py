"""Which product names a video shows and says, and what translating into a language keeps."""

from __future__ import annotations

import pytest

from reeldocs.pipeline.terms import find_product_names, terminology
from reeldocs.providers.base import Scene, Segment


def said(*sentences: str) -> list[Segment]:
    return [Segment(index * 5.0, index * 5.0 + 5, text) for index, text in enumerate(sentences)]


def shown(*texts: str) -> list[Scene]:
    return [Scene(index * 5.0, index * 5.0 + 5, None, text) for index, text in enumerate(texts)]


def test_a_name_on_a_slide_and_capitalised_mid_sentence_in_the_speech_is_protected() -> None:
    names = find_product_names(
        shown("Acme Uploader\nSend videos to your team"),
        said(
            "Open the app on your laptop.",
            "Then sign in to Acme Uploader with your email address.",
            "Acme Uploader keeps every video you send.",
        ),
    )
    assert names == {"Acme Uploader"}


def test_words_capitalised_only_because_they_open_a_sentence_are_not_names() -> None:
    names = find_product_names(
        shown(),
        said("Open the settings page. Click the button! Then type a name: Export starts."),
    )
    assert names == frozenset()


@pytest.mark.parametrize(
    "heading",
    ["Invite Your Team", "Welcome to Acme", "Open Settings", "STEP 3: OPEN THE MENU"],
)
def test_title_cased_headings_tell_nothing(heading: str) -> None:
    assert find_product_names(shown(heading), said()) == frozenset()


def test_a_name_inside_a_sentence_case_slide_line_counts_even_wrapped() -> None:
    assert find_product_names(shown("Try Acme Uploader today"), said()) == {"Acme Uploader"}
    assert find_product_names(shown("Send videos with Acme\nUploader"), said()) == {"Acme Uploader"}


def test_a_run_opening_a_sentence_keeps_its_first_word_only_when_seen_elsewhere() -> None:
    assert find_product_names(shown("Acme Uploader keeps\nyour videos"), said()) == {"Uploader"}
    assert find_product_names(
        shown("Acme Uploader keeps\nyour videos"), said("You can use Acme on any laptop.")
    ) == {"Acme", "Acme Uploader"}
    assert find_product_names(shown(), said("Open Settings from the menu.")) == {"Settings"}


def test_words_english_always_capitalises_are_not_names() -> None:
    names = find_product_names(
        shown(),
        said(
            "On Monday I opened the page in English, and then I'm done in May.",
            "The export is ready on Friday, as I said.",
        ),
    )
    assert names == frozenset()


def test_brands_acronyms_and_possessives() -> None:
    names = find_product_names(
        shown(),
        said("Sign in with your iPhone, open GitHub's page and export a PDF for the team."),
    )
    assert names == {"iPhone", "GitHub", "PDF"}


def test_a_word_also_used_in_small_letters_is_an_ordinary_word() -> None:
    names = find_product_names(
        shown(), said("Now click Save and open Acme.", "Then save your work and close it.")
    )
    assert names == {"Acme"}
    # A recogniser that writes everything in small letters says nothing about capitals.
    assert find_product_names(
        shown("Try Acme today"), said("welcome to the acme product tour")
    ) == {"Acme"}


def test_terminology_of_a_language_joins_names_and_the_glossary() -> None:
    glossary = [
        ("dashboard", {"es": "tablero", "fr": "tableau de bord"}),
        ("project board", {}),
        ("Acme Uploader", {"de": "Acme Hochlader"}),
    ]
    spanish = terminology("es", {"Acme Uploader", "GitHub"}, glossary)
    assert spanish.keep == {"project board", "Project board", "Acme Uploader", "GitHub"}
    assert spanish.forced == {"dashboard": "tablero", "Dashboard": "Tablero"}
    german = terminology("de", {"acme uploader"}, glossary)  # the glossary decides
    assert german.forced == {"Acme Uploader": "Acme Hochlader"}
    assert german.keep == {"dashboard", "Dashboard", "project board", "Project board"}


def test_speech_is_sentence_case_even_when_its_small_words_are_few() -> None:
    # "to" is the only small word, as in a title-cased heading; said, it is a sentence
    names = find_product_names(shown("Welcome to Acme Docs"), said("Welcome to Acme Docs."))
    assert names == {"Acme Docs"}
    assert find_product_names([], said("Welcome To The Show.")) == set()
