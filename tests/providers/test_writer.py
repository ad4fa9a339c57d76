"""The offline extractive writer and the rendering of documents into articles."""

import re

import pytest

from reeldocs.docs.references import find_video_references
from reeldocs.pipeline.documents import article_title, render_markdown
from reeldocs.providers.base import Document, ProviderError, Scene, Segment, Word
from reeldocs.providers.offline.writer import NO_SPEECH_NOTE, ExtractiveWriter

# What pocketsphinx gives: lower case, no punctuation, fillers, stutters and its own marks.
SPOKEN = [
    "so um today we will look at the the project dashboard <sil> the dashboard shows all "
    "your projects and the project status",
    "each project has a status and uh a list of videos you can open any project from the dashboard",
    "now let's create a new project click the new project button and type a name for the project",
    "the project name must be unique and the project slug is made from the name automatically",
    "next we upload a video drag the video file onto the upload area and pick the languages",
    "the upload starts at once and the video appears in the list with its upload progress",
    "finally we look at the settings page the settings page lets you invite members and "
    "change roles",
    "members can be owners editors or viewers and [NOISE] settings are saved as soon as you "
    "change them",
]
SCREENSHOTS = ["0000000.jpg", "0020000.jpg", "0040000.jpg", "0060000.jpg"]


def timed_words(text: str, start: float, end: float) -> list[Word]:
    tokens = text.split()
    step = (end - start) / len(tokens)
    return [Word(t, start + i * step, start + i * step + step * 0.8) for i, t in enumerate(tokens)]


def speech(with_word_times: bool = True) -> list[Segment]:
    segments = []
    for index, text in enumerate(SPOKEN):
        start = 0.5 + index * 10
        words = timed_words(text, start, start + 9) if with_word_times else []
        segments.append(Segment(start, start + 9, text, words=words))
    return segments


def four_scenes(texts: tuple[str, ...] = ("", "", "", "")) -> list[Scene]:
    return [
        Scene(i * 20.0, i * 20.0 + 20.0 + (1.0 if i == 3 else 0.0), name, text)
        for i, (name, text) in enumerate(zip(SCREENSHOTS, texts, strict=True))
    ]


def all_markdown(document: Document) -> str:
    return "\n\n".join(s.markdown for c in document.chapters for s in c.sections)


def test_several_scenes_with_speech_give_several_readable_chapters() -> None:
    segments, scenes = speech(), four_scenes()
    document = ExtractiveWriter().write(segments, scenes, "en", "en")
    assert 2 <= len(document.chapters) <= len(scenes)
    assert [c.start_time for c in document.chapters] == sorted(
        c.start_time for c in document.chapters
    )
    assert document.chapters[0].start_time == 0.0
    markdown = all_markdown(document)

    duration = max(scene.end for scene in scenes)
    references = find_video_references(markdown)
    assert len(references) >= 4
    assert all(0 <= r.seconds <= duration for r in references)
    for segment in segments:  # every stretch of speech is told close after a reference
        before = [r.seconds for r in references if r.seconds <= segment.start_time]
        assert before and segment.start_time - max(before) <= 25, segment.start_time
    assert [r.seconds for r in references] == sorted(r.seconds for r in references)

    images = re.findall(r"!\[Scene at (\d\d:\d\d)\]\(screenshots/([^)]+)\)", markdown)
    assert sorted(name for _, name in images) == SCREENSHOTS
    assert ("00:40", "0040000.jpg") in images

    for chapter in document.chapters:
        for section in chapter.sections:
            assert find_video_references(section.markdown), section.title
            for segment in segments:
                assert segment.spoken_content not in section.markdown
            paragraphs = [p for p in section.markdown.split("\n\n") if p.startswith("[video:")]
            assert paragraphs
            for paragraph in paragraphs:
                prose = paragraph.split("] ", 1)[1]
                assert prose[0].isupper() and prose.endswith(".")
                sentences = re.split(r"(?<=\.) ", prose)
                assert len(prose.split()) >= 20 or len(sentences) >= 2

    # spoken words that only get in the way are gone
    for noise in (" um ", " uh ", "<sil>", "[NOISE]", "the the "):
        assert noise not in markdown
    assert "Each project has a status and a list of videos" in markdown


def test_titles_come_from_on_screen_text_else_from_the_words_spoken() -> None:
    scenes = four_scenes(("", "", "Upload a video\nDrop files here", ""))
    document = ExtractiveWriter().write(speech(), scenes, "en", "en")
    titles = [chapter.title for chapter in document.chapters]
    assert "Upload a video" in titles
    keyword_titles = [t for t in titles if t != "Upload a video"]
    assert keyword_titles
    spoken_words = set(" ".join(SPOKEN).split())
    for title in keyword_titles:
        words = re.findall(r"[a-z]+", title.lower())
        assert words and set(words) - {"and"} <= spoken_words, title
    assert len(set(titles)) == len(titles)
    assert document.title and not document.title.startswith("Part")


def test_short_scenes_are_merged_and_chapters_never_outnumber_scenes() -> None:
    segments = speech()
    # a cut every two seconds, as a screen recording with a moving cursor can give
    many = [Scene(i * 2.0, i * 2.0 + 2.0, f"{i:07d}.jpg") for i in range(41)]
    document = ExtractiveWriter().write(segments, many, "en", "en")
    assert (
        2 <= len(document.chapters) <= 2
    )  # 82 s of video: at most one chapter per 75 s, two at least
    one_scene = [Scene(0.0, 81.0, "0000000.jpg")]
    assert len(ExtractiveWriter().write(segments, one_scene, "en", "en").chapters) == 1


def test_little_speech_over_several_scenes_still_makes_two_chapters() -> None:
    segments = [Segment(1.0, 4.0, "open the settings page and save")]
    document = ExtractiveWriter().write(segments, four_scenes(), "en", "en")
    assert len(document.chapters) == 2
    assert all(chapter.sections for chapter in document.chapters)
    assert "Open the settings page and save." in all_markdown(document)


def test_speech_without_word_times_or_scenes_still_makes_a_document() -> None:
    document = ExtractiveWriter().write(speech(with_word_times=False), [], "en", "en")
    assert document.chapters
    markdown = all_markdown(document)
    assert "![" not in markdown  # no scenes, no screenshots
    assert len(find_video_references(markdown)) >= 2


def test_a_video_without_speech_is_described_from_its_scenes() -> None:
    scenes = four_scenes(("Welcome to Reeldocs", "", "Settings\nInvite members", ""))
    document = ExtractiveWriter().write([], scenes, "en", "en")
    assert document.title == "Welcome to Reeldocs"
    assert 2 <= len(document.chapters) <= 4
    markdown = all_markdown(document)
    assert NO_SPEECH_NOTE in markdown
    assert "No speech was recognised" in markdown
    assert "On screen: Settings · Invite members" in markdown
    for name in SCREENSHOTS:
        assert f"(screenshots/{name})" in markdown
    seconds = {r.seconds for r in find_video_references(markdown)}
    assert seconds == {0, 20, 40, 60}


def test_the_same_input_always_gives_the_same_document() -> None:
    first = ExtractiveWriter().write(speech(), four_scenes(), "en", "en")
    second = ExtractiveWriter().write(speech(), list(reversed(four_scenes())), "en", "en")
    assert first == second


def test_other_languages_are_refused_with_a_sentence() -> None:
    assert ExtractiveWriter().languages() == ["en"]
    with pytest.raises(ProviderError, match="English only"):
        ExtractiveWriter().write(speech(), four_scenes(), "es", "en")


def test_each_chapter_becomes_one_article() -> None:
    document = ExtractiveWriter().write(speech(), four_scenes(), "en", "en")
    articles = render_markdown(document)
    assert [a.order for a in articles] == list(range(len(document.chapters)))
    assert len({a.slug for a in articles}) == len(articles)
    for article, chapter in zip(articles, document.chapters, strict=True):
        assert article.markdown.startswith(f"# {chapter.title}\n\n")
        assert article_title(article.markdown) == chapter.title == article.title
        assert article.start_time == chapter.start_time
        assert re.fullmatch(r"[a-z0-9-]+", article.slug)
        for section in chapter.sections:
            assert section.markdown in article.markdown
            if len(chapter.sections) > 1:
                assert f"\n## {section.title}\n" in article.markdown
        assert article.markdown.endswith("\n") and "\n\n\n" not in article.markdown


def test_articles_get_distinct_slugs_even_for_equal_titles() -> None:
    document = ExtractiveWriter().write([], four_scenes(("Intro",) * 4), "en", "en")
    articles = render_markdown(document)
    assert len({a.slug for a in articles}) == len(articles)
    assert len({a.title for a in articles}) == len(articles)
