"""Exported text: YAML-safe front matter, descriptions, links to screenshots and moments."""

from __future__ import annotations

import pytest
import yaml

from reeldocs.docs.export_text import (
    IndexArticle,
    IndexLanguage,
    article_file,
    description,
    front_matter,
    index_file,
    link_text,
    shown_screenshots,
)
from tests.docs.export_checks import front_matter as read_front_matter
from tests.docs.export_checks import link_targets

AWKWARD_TITLES = [
    "Settings: the basics",
    'Say "hello" to the team',
    "It's Bob's turn",
    "# not a comment",
    "Step 1 # of 3",
    "- a leading dash",
    "--- three dashes",
    "yes",
    "null",
    "123",
    "1.5",
    "@mention and `code`",
    "[brackets] and {braces}",
    "a: b: c",
    "> quoted",
    "& anchor * alias ! tag % directive | pipe",
    "  spaces around  ",
    "Configuración: ¿cómo? — «sí»",
    "back\\slash",
]


@pytest.mark.parametrize("title", AWKWARD_TITLES)
def test_front_matter_keeps_any_title_a_plain_string(title: str) -> None:
    block = front_matter({"title": title, "sidebar_position": 3, "description": title})
    values, body = read_front_matter(block)
    assert values == {"title": title, "sidebar_position": 3, "description": title}
    assert body == "\n"
    # the same through a loader that knows only YAML's core types
    assert yaml.load(block.split("---\n")[1], Loader=yaml.BaseLoader)["title"] == title


def test_description_is_the_summary_line_without_its_moment() -> None:
    markdown = (
        "# Create a project\n\n"
        "[video:00:05] Click New project and type a name. Then press Create.\n\n"
        "![Create a project](screenshots/t000005000.webp)\n\nMore text."
    )
    assert description(markdown, "fallback") == "Click New project and type a name."


def test_description_skips_pictures_and_takes_the_first_sentence() -> None:
    markdown = (
        "![The page](screenshots/a.webp)\n\n"
        "Open **Settings** and pick `Team`! Everything else waits.\n"
    )
    assert description(markdown, "fallback") == "Open Settings and pick Team!"
    assert description("# Only a heading\n", "The title") == "The title"
    long = "word " * 100
    cut = description(long, "x")
    assert len(cut) <= 200 and cut.endswith("…")


def test_article_links_screenshots_up_a_folder_and_moments_to_the_video() -> None:
    markdown = (
        "[video:00:05] Click **New**.\n\n![New](screenshots/t000005000.webp)\n\n"
        "Later [video:1:02:03] it ends. `[video:00:01]` is how a moment is written."
    )
    exported = article_file(
        markdown,
        title="New: a project",
        position=2,
        screenshots_folder="../screenshots",
        moment_link=lambda seconds: f"../video.mp4#t={seconds}",
        mdx=False,
    )
    values, body = read_front_matter(exported)
    assert values == {
        "title": "New: a project",
        "sidebar_position": 2,
        "description": "Click New.",
    }
    assert link_targets(body) == [
        "../video.mp4#t=5",
        "../screenshots/t000005000.webp",
        "../video.mp4#t=3723",
    ]
    assert "`[video:00:01]`" in body  # an example in code stays as written
    assert shown_screenshots(markdown) == {"t000005000.webp"}


def test_mdx_escapes_braces_and_angle_brackets_outside_code() -> None:
    exported = article_file(
        "Use {name} and <b> but `{kept}`.",
        title="T",
        position=1,
        screenshots_folder="../screenshots",
        moment_link=lambda seconds: f"https://x/videos/1#t={seconds}",
        mdx=True,
    )
    assert "\\{name\\} and &lt;b>" in exported and "`{kept}`" in exported


def test_index_links_every_language_s_chapters() -> None:
    index = index_file(
        title="Tour: [part 1]",
        video_link="video.mp4",
        languages=[
            IndexLanguage(
                "en",
                [IndexArticle("Start [here]", "en/01-start.md")],
                [("WebVTT", "en.vtt"), ("SRT", "en.srt")],
            ),
            IndexLanguage("es", [IndexArticle("Empezar", "es/01-empezar.md")], []),
        ],
        mdx=False,
    )
    values, body = read_front_matter(index)
    assert values["title"] == "Tour: [part 1]"
    assert link_targets(body) == [
        "video.mp4",
        "en/01-start.md",
        "en.vtt",
        "en.srt",
        "es/01-empezar.md",
    ]
    assert f"[{link_text('Start [here]')}](en/01-start.md)" in body
