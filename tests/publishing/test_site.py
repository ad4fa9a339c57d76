"""The docs site over HTTP: who sees what, the one 404, caching, files, search, llms.txt,
sitemap.xml, and a published video that stays up while it is regenerated.

One video is processed into English and Spanish by a real worker (see conftest); each test
sets the project's and the video's publishing state it needs through the API.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import httpx
import psycopg
import pytest

from reeldocs.core.db import DatabaseUrls
from reeldocs.core.settings import Settings
from tests.conftest import WorkerProcesses, configured_server
from tests.publishing.conftest import Published, articles
from tests.support.api import process, wait_for_job

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
W3C_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$")
LLMS_LINK = re.compile(r"^- \[(?P<title>.+)\]\((?P<url>https?://[^)\s]+\.md)\)(?P<notes>: .+)?$")


def set_state(p: Published, *, public: bool, published: bool) -> None:
    project = p.api.patch(f"/api/projects/{p.project['id']}", json={"public_docs": public})
    video = p.api.patch(f"/api/videos/{p.video['id']}", json={"published": published})
    assert project.status_code == video.status_code == 200, (project.text, video.text)


def never_existed(client: httpx.Client, **headers: str) -> httpx.Response:
    answer = client.get("/p/no-such-team/no-such-project/", headers=headers)
    assert answer.status_code == 404
    return answer


def assert_same_404(answer: httpx.Response, reference: httpx.Response) -> None:
    assert answer.status_code == 404, (answer.request.url, answer.status_code)
    assert answer.text == reference.text, answer.request.url
    assert answer.headers["content-type"] == reference.headers["content-type"]
    assert answer.headers["cache-control"] == "no-store"


def site_addresses(p: Published) -> list[str]:
    """Every kind of address a site answers, for this video."""
    slug, site = p.video["slug"], p.site
    english = articles(p.api, p.video["id"], "en")
    shot = re.search(r"\(screenshots/([^)]+\.webp)\)", english[0]["content_markdown"])
    assert shot
    return [
        site,
        f"{site}?lang=es",
        f"{site}en/{slug}/",
        f"{site}es/{slug}/",
        f"{site}en/{slug}/{english[0]['slug']}",
        f"{site}en/{slug}/{english[0]['slug']}.md",
        f"{site}{slug}/screenshots/{shot.group(1)}",
        f"{site}{slug}/subtitles/en.vtt",
        f"{site}{slug}/file",
        f"{site}search?q=members&lang=en",
        f"{site}llms.txt",
        f"{site}llms-full.txt",
        f"{site}sitemap.xml",
    ]


def test_a_private_site_is_the_same_404_as_an_address_that_never_existed(
    published: Published,
) -> None:
    p = published
    set_state(p, public=False, published=True)
    reference = never_existed(p.anonymous)
    for address in site_addresses(p):
        assert_same_404(p.anonymous.get(address), reference)
        # signed in, but not in the team: the same
        assert_same_404(p.outsider.get(address), reference)
    as_json = p.anonymous.get(f"{p.site}search?q=members", headers={"Accept": "application/json"})
    assert as_json.status_code == 404
    assert as_json.json() == never_existed(p.anonymous, Accept="application/json").json()
    assert set(as_json.json()) == {"error", "detail"}


def test_members_preview_a_private_site_with_every_video_and_a_banner(
    published: Published,
) -> None:
    p = published
    set_state(p, public=False, published=False)
    home = p.viewer.get(p.site)

    assert home.status_code == 200, home.text
    assert "Preview." in home.text and "These docs are private" in home.text
    assert p.video["title"] in home.text and "Not published" in home.text
    for answer in (home, p.viewer.get(f"{p.site}en/{p.video['slug']}/")):
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "private"
        assert "Cookie" in answer.headers["vary"]
        assert 'name="robots" content="noindex"' in answer.text
    file = p.viewer.get(f"{p.site}{p.video['slug']}/file", headers={"Range": "bytes=0-9"})
    assert file.status_code == 206 and file.headers["cache-control"] == "private"
    # A member's preview is of this project only.
    reference = never_existed(p.viewer)
    assert_same_404(p.viewer.get(f"{p.site}en/{p.other_video['slug']}/"), reference)


def test_a_public_site_shows_its_published_videos_and_their_chapters(
    published: Published,
) -> None:
    p = published
    set_state(p, public=True, published=True)
    for language in ("en", "es"):
        home = p.anonymous.get(p.site, params={"lang": language})
        assert home.status_code == 200, home.text
        assert p.video["title"] in home.text
        for article in articles(p.api, p.video["id"], language):
            page = f"{p.site}{language}/{p.video['slug']}/{article['slug']}"
            assert f'href="{page}"' in home.text
            assert article["title"] in home.text
    assert "Preview." not in home.text
    # The team's other project is private, and its video is no video of this project.
    reference = never_existed(p.anonymous)
    other = f"/p/{p.org_slug}/{p.other_project['slug']}/"
    assert_same_404(p.anonymous.get(other), reference)
    assert_same_404(p.anonymous.get(f"{p.site}en/{p.other_video['slug']}/"), reference)
    assert_same_404(p.anonymous.get(f"{p.site}de/{p.video['slug']}/"), reference)
    # Members of a public project's team read the same public site.
    as_member = p.viewer.get(p.site, params={"lang": "es"})
    assert as_member.text == home.text
    assert as_member.headers["cache-control"].startswith("public")


def test_article_pages_link_their_neighbours_and_the_same_chapter_in_each_language(
    published: Published,
) -> None:
    p = published
    set_state(p, public=True, published=True)
    english = articles(p.api, p.video["id"], "en")
    spanish = articles(p.api, p.video["id"], "es")
    base = f"{p.site}en/{p.video['slug']}/"
    middle = p.anonymous.get(base + english[1]["slug"])
    assert middle.status_code == 200
    assert f'href="{base}{english[0]["slug"]}" rel="prev"' in middle.text
    assert f'href="{base}{english[2]["slug"]}" rel="next"' in middle.text
    spanish_page = f"{p.site}es/{p.video['slug']}/{spanish[1]['slug']}"
    assert f'href="{spanish_page}" hreflang="es"' in middle.text
    first = p.anonymous.get(base + english[0]["slug"]).text
    assert 'rel="prev"' not in first and 'rel="next"' in first


def test_public_answers_carry_an_etag_and_answer_304_until_the_docs_change(
    published: Published,
) -> None:
    p = published
    set_state(p, public=True, published=True)
    article = articles(p.api, p.video["id"], "en")[0]
    address = f"{p.site}en/{p.video['slug']}/{article['slug']}"
    first = p.anonymous.get(address)
    tag = first.headers["etag"]
    home_tag = p.anonymous.get(p.site).headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    assert "Cookie" not in first.headers.get("vary", "")

    again = p.anonymous.get(address, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    assert again.headers["cache-control"] == "public, max-age=60"
    for other in (p.site, f"{p.site}llms.txt", f"{p.site}sitemap.xml"):
        fresh = p.anonymous.get(other)
        assert (
            p.anonymous.get(other, headers={"If-None-Match": fresh.headers["etag"]}).status_code
            == 304
        )

    edited = p.api.patch(f"/api/articles/{article['id']}", json={"title": "Start a project"})
    assert edited.status_code == 200, edited.text
    changed = p.anonymous.get(address, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag and "Start a project" in changed.text
    # the home page lists the chapters: it changes too
    home = p.anonymous.get(p.site, headers={"If-None-Match": home_tag})
    assert home.status_code == 200 and "Start a project" in home.text
    # unpublished: the old copy is not confirmed, the 404 comes instead
    set_state(p, public=True, published=False)
    assert (
        p.anonymous.get(address, headers={"If-None-Match": changed.headers["etag"]}).status_code
        == 404
    )
    set_state(p, public=True, published=True)
    assert p.api.patch(
        f"/api/articles/{article['id']}", json={"title": article["title"]}
    ).is_success


def test_the_video_its_screenshots_and_subtitles_are_served_for_the_site(
    published: Published,
) -> None:
    p = published
    set_state(p, public=True, published=True)
    slug = p.video["slug"]
    whole = p.anonymous.get(f"{p.site}{slug}/file")
    assert whole.status_code == 200 and len(whole.content) == p.video["size_bytes"]
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["cache-control"] == "public, max-age=300"
    part = p.anonymous.get(f"{p.site}{slug}/file", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{p.video['size_bytes']}"
    outside = p.anonymous.get(f"{p.site}{slug}/file", headers={"Range": "bytes=999999999-"})
    assert outside.status_code == 416

    page = p.anonymous.get(f"{p.site}en/{slug}/").text
    shots = re.findall(r'<img src="([^"]+\.webp)"', page)
    assert shots and all(s.startswith(f"{p.site}{slug}/screenshots/") for s in shots)
    image = p.anonymous.get(shots[0])
    assert image.status_code == 200 and image.content[:4] == b"RIFF"
    assert image.headers["content-type"] == "image/webp"
    cached = p.anonymous.get(shots[0], headers={"If-None-Match": image.headers["etag"]})
    assert cached.status_code == 304
    reference = never_existed(p.anonymous)
    assert_same_404(p.anonymous.get(f"{p.site}{slug}/screenshots/no-such-shot.webp"), reference)

    vtt = p.anonymous.get(f"{p.site}{slug}/subtitles/es.vtt")
    assert vtt.status_code == 200 and vtt.text.startswith("WEBVTT")
    assert vtt.headers["content-language"] == "es"
    assert f'src="{p.site}{slug}/subtitles/es.vtt"' in page


def _search(p: Published, query: str, language: str) -> list[dict[str, str]]:
    answer = p.anonymous.get(
        f"{p.site}search",
        params={"q": query, "lang": language},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert "Accept" in answer.headers["vary"]
    hits: list[dict[str, str]] = answer.json()
    return hits


def test_search_finds_articles_by_the_words_of_their_text_in_the_readers_language(
    published: Published, base_url: str
) -> None:
    p = published
    set_state(p, public=True, published=True)
    english = {a["title"]: a for a in articles(p.api, p.video["id"], "en")}
    spanish = articles(p.api, p.video["id"], "es")

    # "members" is in a bullet of the third slide, not in any title
    hits = _search(p, "members", "en")
    assert [hit["title"] for hit in hits] == ["Step 3: Invite Your Team"]
    assert set(hits[0]) == {"title", "url", "snippet"}
    assert (
        "<mark>Members</mark>" in hits[0]["snippet"] or "<mark>members</mark>" in hits[0]["snippet"]
    )
    assert (
        hits[0]["url"]
        == f"{base_url}{p.site}en/{p.video['slug']}/{english[hits[0]['title']]['slug']}"
    )
    assert p.anonymous.get(hits[0]["url"]).status_code == 200
    # stemmed as English: "uploading" finds "Upload"
    assert "Step 2: Upload a Video" in [hit["title"] for hit in _search(p, "uploading", "en")]
    # ranked: the chapter named after it comes before those that only mention it
    ranked = [hit["title"] for hit in _search(p, "project", "en")]
    assert ranked[0] == "Step 1: Create a Project" and len(ranked) >= 2
    # Spanish words find the Spanish articles, stemmed as Spanish
    spanish_hits = _search(p, "miembro", "es")
    assert [hit["title"] for hit in spanish_hits] == [spanish[2]["title"]]
    assert "/es/" in spanish_hits[0]["url"]
    assert all("/es/" in hit["url"] for hit in _search(p, "members", "es"))
    assert _search(p, "", "en") == []
    assert _search(p, "mem\x00bers", "en") == []  # a NUL is no word, and no error
    assert [hit["title"] for hit in _search(p, "-invite members", "en")] == []

    page = p.anonymous.get(f"{p.site}search", params={"q": "members", "lang": "en"})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "<mark>" in page.text and "1 article in English" in page.text


def test_a_snippet_is_escaped_text_with_only_its_highlights_as_markup(
    published: Published,
) -> None:
    p = published
    set_state(p, public=True, published=True)
    article = articles(p.api, p.video["id"], "en")[1]
    hostile = (
        article["content_markdown"]
        + '\n\n<script>alert("zebra")</script> 1 < 2 & <b onclick=x>zebra</b>\n'
    )
    assert p.api.patch(
        f"/api/articles/{article['id']}", json={"content_markdown": hostile}
    ).is_success
    try:
        [hit] = _search(p, "zebra", "en")
        snippet = hit["snippet"]
        assert "<script" not in snippet and "<b " not in snippet
        assert "1 &lt; 2 &amp;" in snippet and "&quot;" in snippet
        assert snippet.count("<mark>") == snippet.count("</mark>") >= 1
        assert "<mark>zebra</mark>" in snippet
        assert re.sub(r"</?mark>", "", snippet).count("<") == 0
    finally:
        restored = p.api.patch(
            f"/api/articles/{article['id']}", json={"content_markdown": article["content_markdown"]}
        )
        assert restored.is_success


def test_llms_txt_lists_every_article_as_llmstxt_org_describes(published: Published) -> None:
    p = published
    set_state(p, public=True, published=True)
    answer = p.anonymous.get(f"{p.site}llms.txt")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    lines = answer.text.splitlines()
    assert lines[0] == "# Acme handbook"
    assert [line for line in lines if line.startswith("# ")] == [lines[0]]
    prose = [line for line in lines[1:] if line.strip()]
    assert prose[0].startswith("> ") and "Acme handbook" in prose[0]
    sections = [line[3:] for line in lines if line.startswith("## ")]
    assert sections == [p.video["title"], "Optional"]
    links = [LLMS_LINK.match(line) for line in lines if line.startswith("- ")]
    assert all(links), [line for line in lines if line.startswith("- ")]
    english = articles(p.api, p.video["id"], "en")
    spanish = articles(p.api, p.video["id"], "es")
    assert len(links) == len(english) + len(spanish)
    optional = lines.index("## Optional")
    primary = [LLMS_LINK.match(line) for line in lines[:optional] if line.startswith("- ")]
    assert [m.group("title") for m in primary if m] == [a["title"] for a in english]
    for match in links:
        assert match is not None
        url = urlsplit(match.group("url"))
        markdown = p.anonymous.get(url.path)
        assert markdown.status_code == 200, url.path
        assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
        assert "[video:" not in markdown.text  # moments are links here

    full = p.anonymous.get(f"{p.site}llms-full.txt")
    assert full.status_code == 200 and full.text.startswith("# Acme handbook\n")
    for article in english + spanish:
        assert f"## {article['title']}\n" in full.text
        steps = re.findall(r"^\d+\. (.+)$", article["content_markdown"], re.MULTILINE)
        assert steps and all(step in full.text for step in steps), article["title"]


def _sitemap_locations(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/xml"
    assert answer.content.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = ElementTree.fromstring(answer.content)
    assert root.tag == f"{SITEMAP}urlset"
    locations = []
    for url in root:
        assert url.tag == f"{SITEMAP}url"
        assert {child.tag for child in url} <= {f"{SITEMAP}loc", f"{SITEMAP}lastmod"}
        [loc] = url.findall(f"{SITEMAP}loc")
        assert loc.text and len(loc.text) <= 2048
        for lastmod in url.findall(f"{SITEMAP}lastmod"):
            assert lastmod.text and W3C_DATETIME.match(lastmod.text), lastmod.text
        locations.append(loc.text)
    assert len(locations) == len(set(locations)) <= 50_000
    return locations


def test_the_sitemap_follows_the_protocol_and_every_address_in_it_answers(
    published: Published, base_url: str, settings: Settings, db_urls: DatabaseUrls
) -> None:
    p = published
    set_state(p, public=True, published=True)
    locations = _sitemap_locations(p.anonymous.get(f"{p.site}sitemap.xml"))
    english = articles(p.api, p.video["id"], "en")
    spanish = articles(p.api, p.video["id"], "es")
    # the home page in each language, the video's page and its articles in each language
    assert len(locations) == 2 + 2 + len(english) + len(spanish)
    for location in locations:
        assert location.startswith(f"{base_url}{p.site}"), location
        assert p.anonymous.get(location).status_code == 200, location

    with configured_server(settings, db_urls, public_url="https://docs.example.com/") as server:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            behind_proxy = _sitemap_locations(client.get(f"{p.site}sitemap.xml"))
            llms = client.get(f"{p.site}llms.txt").text
    assert [urlsplit(loc).path for loc in behind_proxy] == [urlsplit(loc).path for loc in locations]
    assert all(loc.startswith(f"https://docs.example.com{p.site}") for loc in behind_proxy)
    assert f"](https://docs.example.com{p.site}en/" in llms


@pytest.fixture
def hold_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "hold"
    yield path
    path.unlink(missing_ok=True)


def test_a_published_video_stays_up_while_it_is_regenerated(
    published: Published, module_worker: WorkerProcesses, hold_file: Path, db_url: str
) -> None:
    """The new run's drafts are written while the old docs stay on the site; they replace
    them when the job completes."""
    p = published
    set_state(p, public=True, published=True)
    article = articles(p.api, p.video["id"], "en")[0]
    address = f"{p.site}en/{p.video['slug']}/{article['slug']}"
    before = p.anonymous.get(address)
    assert before.status_code == 200

    module_worker.stop_all()
    hold_file.touch()
    module_worker.start(REELDOCS_TEST_HOLD_AT="subtitles", REELDOCS_TEST_HOLD_FILE=str(hold_file))
    job = process(p.api, p.video["id"], ["en", "es"])
    wait_for_job(
        p.api, job, until=lambda j: j["step"] == "subtitles" and j["status"] == "processing"
    )
    with psycopg.connect(db_url) as conn:
        drafts = conn.execute(
            "SELECT count(*) FROM articles WHERE video_id = %s AND status = 'draft'",
            (p.video["id"],),
        ).fetchone()
    assert drafts is not None and drafts[0] > 0  # the next run is written, not shown
    during = p.anonymous.get(address)
    assert during.status_code == 200 and during.headers["etag"] == before.headers["etag"]
    assert p.anonymous.get(p.site).status_code == 200
    assert [h["title"] for h in _search(p, "members", "en")] == ["Step 3: Invite Your Team"]

    hold_file.unlink()
    assert wait_for_job(p.api, job, timeout=240)["status"] == "completed"
    after = p.anonymous.get(address)
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]


def test_unpublishing_then_deleting_leaves_only_404s(published: Published) -> None:
    p = published
    set_state(p, public=True, published=True)
    addresses = site_addresses(p)
    reference = never_existed(p.anonymous)
    for address in addresses:
        whole = p.anonymous.get(address)
        assert whole.status_code == 200, address
        # HEAD, as link checkers ask: the same answer without its body
        head = p.anonymous.head(address)
        assert head.status_code == 200 and head.content == b"", address
        assert head.headers["etag"] == whole.headers["etag"], address

    set_state(p, public=True, published=False)
    for address in addresses[2:]:  # the home page stays, with nothing on it
        if "/search" in address or address.endswith((".txt", ".xml")):
            continue
        assert_same_404(p.anonymous.get(address), reference)
        assert p.anonymous.head(address).status_code == 404
    home = p.anonymous.get(p.site)
    assert home.status_code == 200 and "Nothing is published here yet." in home.text
    assert p.video["title"] not in home.text
    assert _search(p, "members", "en") == []
    assert "- [" not in p.anonymous.get(f"{p.site}llms.txt").text

    set_state(p, public=True, published=True)
    assert p.anonymous.get(addresses[2]).status_code == 200
    deleted = p.api.delete(f"/api/videos/{p.video['id']}")
    assert deleted.status_code == 204
    for address in addresses[2:]:
        if "/search" in address or address.endswith((".txt", ".xml")):
            continue
        assert_same_404(p.anonymous.get(address), reference)
