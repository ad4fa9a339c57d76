"""Markdown text runs, the translation checker, and translation with the real Apertium."""

import random
import re
import shutil
import subprocess
from typing import Any

import pytest

from reeldocs.pipeline.documents import render_markdown
from reeldocs.providers.base import ProviderError, Scene, Segment, Terminology
from reeldocs.providers.markdown_text import (
    check_translation,
    split_markdown,
    translatable_runs,
    translate_markdown_runs,
)
from reeldocs.providers.offline.translate import ApertiumTranslator
from reeldocs.providers.offline.writer import ExtractiveWriter
from reeldocs.providers.terminology import protected_spans

ARTICLE = """---
title: Getting started
---
# Getting started with projects ##

![Scene at 00:05](screenshots/0005000.jpg)

[video:00:05] Open the **Projects** page, click `New project`.
See [the guide](https://ex.com/g "Guide") or <https://ex.com/h>.
Visit https://example.com/a_b for more. &nbsp; Then press <kbd>Ctrl</kbd>+<kbd>S</kbd> to save.[^1]

> Tip: keep project names short and clear.
> - Each project has its own members [video:1:02:03]

1. Choose a name for the project
   - [ ] Check that the name is free
2) Save the project\\

    indented continuation of the second item

```python
print("hello world")  # the code stays in English
```

    an indented code block stays too

| Setting | Meaning |
|:--------|--------:|
| `timeout` | How long to wait \\| in seconds |

[guide]: https://example.com/ref
<!-- an editor's note
that spans lines -->
The last line has no line break"""

PROTECTED_EXCERPTS = [
    "---\ntitle: Getting started\n---\n# ",
    "](screenshots/0005000.jpg)",
    "[video:00:05]",
    "`New project`",
    '](https://ex.com/g "Guide")',
    "<https://ex.com/h>",
    "https://example.com/a_b",
    "&nbsp;",
    "<kbd>",
    "</kbd>+<kbd>",
    "[^1]",
    "[video:1:02:03]",
    '```python\nprint("hello world")  # the code stays in English\n```\n',
    "    an indented code block stays too\n",
    "|:--------|--------:|\n| `timeout` |",
    "[guide]: https://example.com/ref\n",
    "<!-- an editor's note\nthat spans lines -->\n",
]


def markers_of(markdown: str) -> list[str]:
    """Each line's structural prefix: indentation, quote, list, task and heading markers."""
    prefix = re.compile(r"^[ \t]*(?:>[ \t]?)*[ \t]*(?:(?:[-*+]|\d+[.)])[ \t]+(?:\[[ xX]\] )?)?#*")
    return [m.group(0) for m in map(prefix.match, markdown.split("\n")) if m is not None]


def test_pieces_always_join_back_into_the_source() -> None:
    rng = random.Random(5)
    fragments = ARTICLE.split("\n") + ["`", "```", "**", "[", "](", ")", "|", "<", ">", "\\"]
    for _ in range(300):
        markdown = "\n".join(rng.choice(fragments) for _ in range(rng.randint(0, 25)))
        if rng.random() < 0.5:
            markdown += "\n"
        assert "".join(piece.text for piece in split_markdown(markdown)) == markdown
        joined = "".join(p.text for p in split_markdown(markdown, protect_emphasis=True))
        assert joined == markdown


def test_identity_translation_gives_back_the_same_bytes() -> None:
    seen: list[list[str]] = []

    def identity(runs: list[str]) -> list[str]:
        seen.append(runs)
        return list(runs)

    assert translate_markdown_runs(ARTICLE, identity) == ARTICLE
    assert len(seen) == 1  # one call for the whole document


def test_only_prose_reaches_the_translator() -> None:
    runs = translatable_runs(ARTICLE)
    for run in runs:
        assert run == run.strip() and "\n" not in run
        for forbidden in ("[video:", "http", "print(", "`", "<kbd>", "screenshots/", "---"):
            assert forbidden not in run, run
        assert re.search(r"(?<!\\)\|", run) is None, run  # table pipes, not escaped ones
    assert "Open the **Projects** page, click" in runs
    assert "the guide" in runs and "Scene at 00:05" in runs
    assert "How long to wait \\| in seconds" in runs
    # A bold interface label stays whole in its run (the translator carries it as one);
    # other emphasis markers are kept out of the runs.
    assert "Open the **Projects** page, click" in translatable_runs(ARTICLE, protect_emphasis=True)
    assert translatable_runs("Open the **projects** page.", protect_emphasis=True) == [
        "Open the",
        "projects",
        "page.",
    ]


def test_an_uppercasing_translator_leaves_protected_parts_byte_identical() -> None:
    translated = translate_markdown_runs(ARTICLE, lambda runs: [r.upper() for r in runs])
    for excerpt in PROTECTED_EXCERPTS:
        assert excerpt in translated, excerpt
    assert translated.count("\n") == ARTICLE.count("\n")
    assert markers_of(translated) == markers_of(ARTICLE)
    assert "OPEN THE **PROJECTS** PAGE, CLICK `New project`" in translated
    assert "[THE GUIDE](https://ex.com/g" in translated
    assert "| HOW LONG TO WAIT \\| IN SECONDS |" in translated
    assert translated.endswith("THE LAST LINE HAS NO LINE BREAK")


def test_a_translator_returning_the_wrong_number_of_runs_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be put back"):
        translate_markdown_runs(ARTICLE, lambda runs: runs[:-1])


def reverse_words(text: str) -> str:
    return re.sub(r"\S+", lambda word: word.group(0)[::-1], text)


def word_swap(text: str) -> str:
    """A stand-in 'translation' that changes every word of prose, as a faithful translator
    would leave interface labels and terms alone."""

    def swap(run: str) -> str:
        out, position = [], 0
        for span in protected_spans(run):
            out += [reverse_words(run[position : span.start]), span.output]
            position = span.end
        return "".join([*out, reverse_words(run[position:])])

    return translate_markdown_runs(text, lambda runs: [swap(run) for run in runs])


def test_the_checker_accepts_a_faithful_translation() -> None:
    assert check_translation(ARTICLE, word_swap(ARTICLE)) is None


def test_the_checker_catches_a_dropped_or_altered_reference() -> None:
    translated = word_swap(ARTICLE)
    dropped = translated.replace("[video:1:02:03]", "")
    assert check_translation(ARTICLE, dropped) == (
        "The translation lost or changed the video reference [video:1:02:03]."
    )
    altered = translated.replace("[video:00:05]", "[video:00:06]")
    problem = check_translation(ARTICLE, altered)
    assert problem is not None and "[video:00:05]" in problem


def test_the_checker_catches_altered_code() -> None:
    translated = word_swap(ARTICLE)
    block = translated.replace("# the code stays in English", "# el código")
    problem = check_translation(ARTICLE, block)
    assert problem is not None and problem.startswith("The translation dropped or altered code")
    inline = translated.replace("`New project`", "`Nuevo proyecto`")
    assert check_translation(ARTICLE, inline) is not None


def test_the_checker_catches_a_lost_image_address() -> None:
    translated = word_swap(ARTICLE).replace("(screenshots/0005000.jpg)", "(captura.jpg)")
    problem = check_translation(ARTICLE, translated)
    assert problem is not None and "screenshots/0005000.jpg" in problem


def test_the_checker_catches_an_untranslated_document() -> None:
    problem = check_translation(ARTICLE, ARTICLE)
    assert problem is not None and problem.startswith("The text was not translated")
    # translating a single heading is not enough either
    barely = ARTICLE.replace("Getting started with projects", "Primeros pasos con proyectos")
    assert check_translation(ARTICLE, barely) is not None


# --- Apertium ---------------------------------------------------------------------------

needs_apertium = pytest.mark.skipif(
    shutil.which("apertium") is None,
    reason="the Debian package apertium (with apertium-eng-spa) is not installed",
)


def writer_article() -> str:
    """A real article from the offline writer, with a code block and references added."""
    sentences = [
        "today we look at the project dashboard where all your projects are listed",
        "open a project to see its videos and the status of each video",
        "to create a project click the new project button and type a short name",
        "the name must be unique in your organisation and it can be changed later",
        "next upload a video by dragging the file onto the page and choose the languages",
        "when the upload is finished the documentation is written while you wait",
    ]
    segments = [Segment(i * 8.0, i * 8.0 + 7.5, text) for i, text in enumerate(sentences)]
    scenes = [
        Scene(0, 16, "0000000.jpg"),
        Scene(16, 32, "0016000.jpg"),
        Scene(32, 48, "0032000.jpg"),
    ]
    articles = render_markdown(ExtractiveWriter().write(segments, scenes, "en", "en"))
    code = '\n```bash\ncurl -H "Authorization: Bearer $TOKEN" http://localhost:8000/api/projects\n```\n'
    return articles[0].markdown + code + "\nRun `reeldocs serve` and open the **settings** page.\n"


@needs_apertium
def test_apertium_offers_the_installed_pairs_only() -> None:
    targets = ApertiumTranslator().targets("en")
    assert "es" in targets
    assert set(targets) <= {"es", "ca", "gl", "eo"}
    assert "en" in ApertiumTranslator().targets("es")
    assert ApertiumTranslator().targets("xx") == []


@needs_apertium
def test_apertium_translates_an_article_keeping_code_and_references() -> None:
    source = writer_article()
    translated = ApertiumTranslator().translate_markdown(source, "en", "es")
    assert check_translation(source, translated) is None
    for pattern in (r"\[video:[^\]]+\]", r"```.*?```", r"`[^`\n]+`", r"\]\([^)]*\)"):
        assert re.findall(pattern, source, re.S) == re.findall(pattern, translated, re.S)
    assert translated.count("\n") == source.count("\n")
    assert markers_of(translated) == markers_of(source)
    source_lines = [line for line in source.split("\n") if re.search(r"[a-z]{3}", line)]
    changed = [line for line in source_lines if line not in translated.split("\n")]
    assert len(changed) >= 0.8 * len(source_lines) - 2  # all prose lines, not code or images
    assert re.search(r"\b(el|la|los|las|de|y|para)\b", translated)
    assert "**" in translated and translated.count("**") == source.count("**")


@needs_apertium
def test_apertium_translates_several_articles_in_one_run_as_it_would_each_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    articles = [
        writer_article(),
        "# Invite your team\n\nOpen the **settings** page [video:0:42].\n",
    ]
    translator = ApertiumTranslator()
    alone = [translator.translate_markdown(article, "en", "es") for article in articles]
    started: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(command: list[str], *args: Any, **kwargs: Any) -> Any:
        started.append(command)
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting_run)
    together = translator.translate_documents(articles, "en", "es")

    assert together == alone
    assert len(started) == 1  # one Apertium process for both articles


@needs_apertium
def test_apertium_keeps_many_runs_apart_with_awkward_characters() -> None:
    runs = [
        "Is it easy?",
        "Yes!",
        "Use the ~ key, a back\\slash and a /path/ here.",
        "Prices in $ and ^ and @ and {braces} and [brackets] and <angles>.",
        "Wait...",
        '"Quoted" text (with parentheses)',
        "red",
        "the",
    ] * 40
    translated = ApertiumTranslator().translate_lines(runs, "en", "es")
    assert len(translated) == len(runs)
    assert translated[:8] == translated[8:16]  # each run translated on its own, in order
    assert "~" in translated[2] and "\\" in translated[2] and translated[2].count("/") == 2
    for symbol in ("$", "^", "@", "{", "}", "[", "]", "<", ">"):
        assert symbol in translated[3], translated[3]
    assert translated[0].endswith("?") and translated[1].endswith("!")


@needs_apertium
def test_apertium_subtitle_lines_come_back_one_for_one() -> None:
    lines = ["Open the settings page", "", "and invite\nyour team members", "Save."]
    translated = ApertiumTranslator().translate_lines(lines, "en", "ca")
    assert len(translated) == 4
    assert translated[1] == ""
    assert all(t and "\n" not in t for i, t in enumerate(translated) if i != 1)
    assert translated[0] != lines[0] and translated[3].endswith(".")


@needs_apertium
def test_apertium_explains_a_pair_it_does_not_have() -> None:
    with pytest.raises(ProviderError, match="cannot translate English into German"):
        ApertiumTranslator().translate_markdown("Hello there.", "en", "de")


def test_without_apertium_no_language_is_offered_and_translation_says_why() -> None:
    translator = ApertiumTranslator(executable="apertium-not-installed-here")
    assert translator.targets("en") == []
    with pytest.raises(ProviderError, match="needs Apertium, which is not installed"):
        translator.translate_lines(["Hello"], "en", "es")


# --- names, labels and glossary terms ----------------------------------------------------

TERMS_ARTICLE = """# Try Acme Uploader today

Open Acme Uploader and the dashboard, then run `acme sync` [video:00:05].
Click "Open Settings", then **Save**, and pin it to the project board.
Write to help@acme.example or read https://acme.example/docs for more.
"""
GLOSSARY = Terminology(
    keep=frozenset({"Acme Uploader", "project board"}), forced={"dashboard": "tablero"}
)
CARRIED = [
    "Acme Uploader",
    "`acme sync`",
    "[video:00:05]",
    '"Open Settings"',
    "**Save**",
    "project board",
    "help@acme.example",
    "https://acme.example/docs",
    "tablero",
]


@needs_apertium
def test_apertium_carries_names_labels_and_glossary_terms_byte_for_byte() -> None:
    translator = ApertiumTranslator()
    # Apertium on its own changes them: the name, the label, the glossary's terms.
    alone = translator._text_translator("en", "es")(translatable_runs(TERMS_ARTICLE))
    assert "Acmé" in " ".join(alone) and "Encuadres" in " ".join(alone)
    assert "junta" in " ".join(alone) and "salpicadero" in " ".join(alone)

    translated = translator.translate_markdown(TERMS_ARTICLE, "en", "es", terms=GLOSSARY)

    for carried in CARRIED:
        assert carried in translated, (carried, translated)
    assert translated.count("Acme Uploader") == 2
    assert not re.search(r"Acmé|Encuadres|junta|salpicadero|dashboard", translated), translated
    assert translated.startswith("# Prueba Acme Uploader hoy\n")
    assert check_translation(TERMS_ARTICLE, translated, GLOSSARY) is None


@needs_apertium
def test_apertium_subtitle_lines_carry_the_same_terms() -> None:
    lines = [
        "Open Acme Uploader and the dashboard.",
        "Click “Save” and write to help@acme.example.",
        "Acme Uploader is on the project board at https://acme.example/b",
    ]
    translated = ApertiumTranslator().translate_lines(lines, "en", "es", terms=GLOSSARY)
    assert translated == [
        "Abierto Acme Uploader y el tablero.",
        "Clic “Save” y escribir a help@acme.example.",
        # the capital Apertium puts after an unknown word at a sentence start is undone
        "Acme Uploader es en el project board en https://acme.example/b",
    ]
