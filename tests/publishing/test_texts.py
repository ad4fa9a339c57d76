"""The docs site's texts without a server: snippets, nested Markdown, llms.txt and the
sitemap built from a site's contents as the database would give them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from xml.etree import ElementTree

from reeldocs.publishing import texts
from reeldocs.publishing.access import Site
from reeldocs.publishing.reading import ArticleEntry, ArticleText, SiteContents, SiteVideo
from reeldocs.publishing.search import highlighted

WHEN = datetime(2026, 11, 29, 12, 30, tzinfo=UTC)


def _contents() -> SiteContents:
    site = Site(uuid.uuid4(), "acme", "Acme", uuid.uuid4(), "guide", "A & B <guide>", True, False)
    video = SiteVideo(
        id=uuid.uuid4(),
        slug="tour",
        title="The tour",
        published=True,
        run_id=uuid.uuid4(),
        duration_seconds=60.0,
        created_at=WHEN,
        primary="en",
        languages=["en", "es"],
        articles=2,
        versions=2,
        edited_at=WHEN,
    )
    contents = SiteContents(site, [video])
    for language, title in (("en", "Start [here]"), ("es", "Empieza aquí")):
        entry = ArticleEntry(uuid.uuid4(), video.id, language, 0, title, "start", 0.0, WHEN)
        contents.entries[(video.id, language)] = [entry]
    return contents


def test_a_snippet_is_escaped_then_only_its_markers_become_marks() -> None:
    snippet = highlighted('a <b onclick="x"> & \x02word\x03  \n next')
    assert str(snippet) == "a &lt;b onclick=&quot;x&quot;&gt; &amp; <mark>word</mark> next"


def test_nested_markdown_drops_the_repeated_title_and_leaves_code_alone() -> None:
    markdown = "# Start\n\n## Steps\n\n```\n# not a heading\n```\n\n###### Deepest\n"
    assert texts._nested(markdown, "start", 1) == (
        "\n### Steps\n\n```\n# not a heading\n```\n\n###### Deepest".lstrip("\n")
    )


def test_article_markdown_links_moments_and_screenshots_absolutely() -> None:
    contents = _contents()
    video = contents.videos[0]
    links = texts.SiteAddresses("https://docs.example.com/", contents)
    text = ArticleText(
        contents.entries[(video.id, "en")][0],
        "See [video:01:05] and ![Shot](screenshots/a.webp), not `[video:00:01]`.",
    )
    body = texts.article_markdown(
        text, moment=links.moment(video, "en"), screenshot=links.screenshot(video)
    )
    assert body == (
        "See [▶ 1:05](https://docs.example.com/p/acme/guide/en/tour/#t=65) and "
        "![Shot](https://docs.example.com/p/acme/guide/tour/screenshots/a.webp), "
        "not `[video:00:01]`."
    )


def test_llms_txt_escapes_link_text_and_puts_translations_under_optional() -> None:
    contents = _contents()
    links = texts.SiteAddresses("https://docs.example.com", contents)
    [english] = contents.entries[(contents.videos[0].id, "en")]
    body = texts.llms_txt(contents, links, {english.id: "# Start\n\nOpen the menu. Then more."})
    assert body.splitlines() == [
        "# A & B <guide>",
        "",
        "> Documentation of A & B <guide>, written from one video in English and Spanish: "
        "one article per chapter, with links to the moments of the video it describes.",
        "",
        "Each link below is an article's Markdown; its page is the same address without "
        "`.md`. All articles in one file: llms-full.txt.",
        "",
        "## The tour",
        "",
        r"- [Start \[here\]](https://docs.example.com/p/acme/guide/en/tour/start.md): "
        "Open the menu.",
        "",
        "## Optional",
        "",
        "- [Empieza aquí (Spanish, The tour)](https://docs.example.com/p/acme/guide/es/tour/"
        "start.md)",
    ]


def test_the_sitemap_is_well_formed_with_absolute_addresses_and_w3c_dates() -> None:
    contents = _contents()
    xml = texts.sitemap_xml(contents, texts.SiteAddresses("https://docs.example.com", contents))
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<urlset xmlns=")
    root = ElementTree.fromstring(xml)
    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    found = [
        (url.findtext(f"{namespace}loc"), url.findtext(f"{namespace}lastmod"))
        for url in root.iter(f"{namespace}url")
    ]
    assert found == [
        ("https://docs.example.com/p/acme/guide/", "2026-11-29T12:30:00+00:00"),
        ("https://docs.example.com/p/acme/guide/?lang=es", "2026-11-29T12:30:00+00:00"),
        ("https://docs.example.com/p/acme/guide/en/tour/", "2026-11-29T12:30:00+00:00"),
        ("https://docs.example.com/p/acme/guide/en/tour/start", "2026-11-29T12:30:00+00:00"),
        ("https://docs.example.com/p/acme/guide/es/tour/", "2026-11-29T12:30:00+00:00"),
        ("https://docs.example.com/p/acme/guide/es/tour/start", "2026-11-29T12:30:00+00:00"),
    ]
