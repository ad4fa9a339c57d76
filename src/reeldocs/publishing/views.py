"""What the docs site's pages show around their content: the sidebar of videos and
chapters, the language switcher, previous and next chapters, and a preview's banner."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from reeldocs.core.languages import language_endonym, language_name
from reeldocs.publishing import addresses
from reeldocs.publishing.reading import ArticleEntry, SiteContents, SiteVideo


@dataclass(frozen=True)
class Link:
    href: str
    label: str
    language: str | None = None  # set when the label is in a language of the docs
    current: bool = False


@dataclass
class NavVideo:
    video: SiteVideo
    language: str  # the language its titles are shown in
    link: Link
    chapters: list[Link] = field(default_factory=list)  # only for the video the page is in


def home_href(contents: SiteContents, language: str | None) -> str:
    """The home page in `language`; the site's main language needs no parameter."""
    if language is None or language == contents.main_language:
        return contents.site.path
    return f"{contents.site.path}?{urlencode({'lang': language})}"


def video_href(contents: SiteContents, video: SiteVideo, language: str) -> str:
    return addresses.video_path(contents.site.path, language, video.slug)


def article_href(contents: SiteContents, video: SiteVideo, entry: ArticleEntry) -> str:
    return addresses.article_path(contents.site.path, entry.language, video.slug, entry.slug)


def search_href(contents: SiteContents, language: str, query: str = "") -> str:
    parameters = {"q": query, "lang": language} if query else {"lang": language}
    return f"{contents.site.path}search?{urlencode(parameters)}"


def navigation(
    contents: SiteContents,
    language: str,
    *,
    open_video: SiteVideo | None = None,
    current_article: ArticleEntry | None = None,
) -> list[NavVideo]:
    """Every video of the site in `language` (or its own primary language when it has no
    docs in it); the chapters of `open_video` listed below its title."""
    items = []
    for video in contents.videos:
        shown = video.language_for(language)
        is_open = open_video is not None and video.id == open_video.id
        item = NavVideo(
            video,
            shown,
            Link(
                video_href(contents, video, shown),
                video.title,
                current=is_open and current_article is None,
            ),
        )
        if is_open:
            item.chapters = [
                Link(
                    article_href(contents, video, entry),
                    entry.title,
                    entry.language,
                    current=current_article is not None and entry.id == current_article.id,
                )
                for entry in contents.articles(video, shown)
            ]
        items.append(item)
    return items


def switcher(links: dict[str, str], current: str) -> list[Link]:
    """The language switcher: each language by its own name, linking to the same place."""
    return [
        Link(href, language_endonym(code), code, current=code == current)
        for code, href in links.items()
    ]


def home_languages(contents: SiteContents) -> dict[str, str]:
    return {code: home_href(contents, code) for code in contents.languages}


def video_languages(contents: SiteContents, video: SiteVideo) -> dict[str, str]:
    return {code: video_href(contents, video, code) for code in video.languages}


def article_languages(
    contents: SiteContents, video: SiteVideo, entry: ArticleEntry
) -> dict[str, str]:
    """The same chapter in each of the video's languages (translations keep their order);
    the video's page where a language lacks that chapter."""
    links = {}
    for code in video.languages:
        same = [e for e in contents.articles(video, code) if e.order == entry.order]
        links[code] = (
            article_href(contents, video, same[0]) if same else video_href(contents, video, code)
        )
    return links


@dataclass(frozen=True)
class Neighbours:
    previous: Link | None
    next: Link | None


def around(contents: SiteContents, video: SiteVideo) -> list[SiteVideo]:
    """The video and those just before and after it: whose articles `neighbours` needs."""
    at = contents.videos.index(video)
    return contents.videos[max(0, at - 1) : at + 2]


def neighbours(contents: SiteContents, language: str, current: ArticleEntry) -> Neighbours:
    """The chapters before and after `current` when the site is read in order, from one
    video's last chapter to the next video's first (the articles of the videos `around`
    it loaded in `language`)."""
    sequence = [
        (video, entry)
        for video in contents.videos
        for entry in contents.articles(video, video.language_for(language))
    ]
    position = next(i for i, (_, entry) in enumerate(sequence) if entry.id == current.id)

    def link(index: int) -> Link | None:
        if not 0 <= index < len(sequence):
            return None
        video, entry = sequence[index]
        return Link(article_href(contents, video, entry), entry.title, entry.language)

    return Neighbours(link(position - 1), link(position + 1))


@dataclass(frozen=True)
class PreviewNote:
    """What a member's preview of a private site says is not public."""

    team: str
    unpublished: list[str]  # titles of the videos shown that are not published
    project_id: str


def preview_note(contents: SiteContents) -> PreviewNote | None:
    if not contents.site.preview:
        return None
    return PreviewNote(
        contents.site.org_name,
        [video.title for video in contents.videos if not video.published],
        str(contents.site.project_id),
    )


def language_label(code: str) -> str:
    """`Spanish (Español)`: for places that name a language in English."""
    own = language_endonym(code)
    english = language_name(code)
    return english if own == english else f"{english} ({own})"
