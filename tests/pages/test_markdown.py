"""Article Markdown to HTML: safe, with video references and screenshots wired to the page."""

from __future__ import annotations

import re
import uuid

from reeldocs.pages.markdown import PageImages, render_article

VIDEO = uuid.UUID("6f1c1d3e-8d0b-4a47-9a55-0d4a7c1e2b3f")


def test_references_become_links_that_seek_but_not_inside_code() -> None:
    html = render_article("Open it at [video:01:23], see `[video:00:05]`.", VIDEO)
    assert f'<a href="/videos/{VIDEO}#t=83" data-seek="83" class="timestamp">▶ 1:23</a>' in html
    assert "<code>[video:00:05]</code>" in html
    past_an_hour = render_article("[video:1:02:03]", VIDEO)
    assert 'data-seek="3723"' in past_an_hour and "▶ 1:02:03" in past_an_hour


def test_screenshots_point_at_the_api_and_other_images_stay() -> None:
    html = render_article(
        "![Settings](screenshots/scene-002.webp) ![x](https://e.org/a.png)", VIDEO
    )
    assert f'src="/api/videos/{VIDEO}/screenshots/scene-002.webp"' in html
    assert 'src="https://e.org/a.png"' in html
    assert render_article("![a](screenshots/../../etc/passwd)", VIDEO).count("/api/videos") == 0


def test_html_is_text_and_script_links_are_not_links() -> None:
    html = render_article(
        "<script>alert(1)</script>\n\nHi <img src=x onerror=alert(2)> "
        "[go](javascript:alert(3)) [ok](https://example.com)",
        VIDEO,
    )
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript' not in html
    assert '<a href="https://example.com">ok</a>' in html


def test_a_first_heading_repeating_the_title_is_dropped() -> None:
    assert "<h1>" not in render_article("# Getting started\n\nBody.", VIDEO, "Getting  started")
    kept = render_article("# Something else\n\nBody.", VIDEO, "Getting started")
    assert "<h1>Something else</h1>" in kept
    assert "<h2>Getting started</h2>" in render_article(
        "## Getting started", VIDEO, "Getting started"
    )


def test_on_a_page_headings_nest_under_the_article_and_images_carry_their_size() -> None:
    images = PageImages({"scene-001.webp": (1280, 720)})
    html = render_article(
        "# Intro\n\n## Steps\n\n#### Detail\n\n# Again\n\n![A](screenshots/scene-001.webp)",
        VIDEO,
        "Intro",
        heading_level=3,
        images=images,
    )
    assert [m.group(1) for m in re.finditer(r"<h(\d)>", html)] == ["4", "5", "4"]
    assert 'width="1280" height="720"' in html and "loading" not in html  # the page's first
    later = render_article("![B](screenshots/scene-002.webp)", VIDEO, images=images)
    assert 'loading="lazy"' in later and "width" not in later  # no size known: none given
