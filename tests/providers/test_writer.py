"""The offline extractive writer and the rendering of documents into articles."""

import re

import pytest
from markdown_it import MarkdownIt

from reeldocs.docs.references import find_video_references
from reeldocs.pipeline.documents import article_title, render_markdown
from reeldocs.providers.base import Chapter, Document, ProviderError, Scene, Segment, Word
from reeldocs.providers.offline.writer import NO_SPEECH_NOTE, ExtractiveWriter

# A recogniser without punctuation: lower case, fillers, stutters and its own marks.
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


def four_scenes(
    texts: tuple[str, ...] = ("", "", "", ""), titles: tuple[str, ...] = ("", "", "", "")
) -> list[Scene]:
    return [
        Scene(i * 20.0, i * 20.0 + 20.0 + (1.0 if i == 3 else 0.0), name, text, title)
        for i, (name, text, title) in enumerate(zip(SCREENSHOTS, texts, titles, strict=True))
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
            if section is chapter.sections[0]:
                # the chapter's summary, one spoken sentence, opens its first section
                summary = section.markdown.split("\n\n")[0]
                assert summary == paragraphs[0] and summary.endswith(".")
                assert len(re.split(r"(?<=\.) ", summary.split("] ", 1)[1])) == 1
                paragraphs = paragraphs[1:]
            for paragraph in paragraphs:
                prose = paragraph.split("] ", 1)[1]
                assert prose[0].isupper() and prose.endswith(".")
                sentences = re.split(r"(?<=\.) ", prose)
                assert len(prose.split()) >= 12 or len(sentences) >= 2

    # spoken words that only get in the way are gone
    for noise in (" um ", " uh ", "<sil>", "[NOISE]", "the the "):
        assert noise not in markdown
    assert "Each project has a status and a list of videos" in markdown


def test_without_slide_titles_chapters_are_titled_by_the_words_spoken() -> None:
    # Interface text that is not a title (small, or not confidently read) names nothing.
    scenes = four_scenes(("", "", "Upload a video\nDrop files here", ""))
    document = ExtractiveWriter().write(speech(), scenes, "en", "en")
    titles = [chapter.title for chapter in document.chapters]
    assert 2 <= len(titles) <= 4
    spoken_words = set(" ".join(SPOKEN).split())
    for title in titles:
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


def test_a_video_without_speech_or_titles_is_described_from_its_scenes() -> None:
    scenes = four_scenes(("Welcome to Reeldocs", "", "Settings\nInvite members", ""))
    document = ExtractiveWriter().write([], scenes, "en", "en")
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
    titles = ("Intro", "Setup", "Intro", "Setup")  # slides shown again later
    document = ExtractiveWriter().write([], four_scenes(titles, titles), "en", "en")
    articles = render_markdown(document)
    assert [a.title for a in articles] == list(titles)
    assert [a.slug for a in articles] == ["intro", "setup", "intro-2", "setup-2"]


# --- chapters that follow slides --------------------------------------------------------

# (title, bullet lines, what is said over the slide), as OCR and a recogniser that punctuates
# (Whisper) give them.
SLIDES = [
    (
        "Welcome to Acme Docs",
        ["Turn product videos into documentation", "Works offline on one laptop"],
        "Welcome to Acme Docs. This short tour shows how a video becomes documentation.",
    ),
    (
        "Step 1: Create a Project",
        ["Open the dashboard", "Click New project", "Type a name and press Save"],
        "First, create a project. Open the dashboard and click New project.",
    ),
    (
        "Step 2: Upload a Video",
        ["Open your project", "Drag the video file onto the page"],
        "Next, upload a video. Drag the file onto the page.",
    ),
    (
        "Step 3: Invite Your Team",
        ["Click the gear icon (top right)", "Open the Members tab"],
        "Then invite your team from the members tab.",
    ),
    (
        "Step 4: Export the Docs",
        ["Open the Documentation tab", "Choose the Export tab"],
        "Finally, export the documentation from the export tab.",
    ),
    (
        "What You Get",
        ["One article per chapter", "Subtitles in each language"],
        "You get one article per chapter and subtitles in each language.",
    ),
]


def slide_scene(index: int, title: str, lines: list[str], start: float, end: float) -> Scene:
    text = "\n".join([title, *lines]) if title else "\n".join(lines)
    return Scene(start, end, f"t{round(start * 1000):09d}.webp", text, title)


def said(text: str, start: float, seconds_per_word: float = 0.4) -> Segment:
    tokens = text.split()
    words = [
        Word(token, start + i * seconds_per_word, start + (i + 0.8) * seconds_per_word)
        for i, token in enumerate(tokens)
    ]
    return Segment(start, words[-1].end, text, words=words)


def slide_tour() -> tuple[list[Segment], list[Scene]]:
    scenes = [
        slide_scene(i, title, lines, i * 10.0, i * 10.0 + 10.0)
        for i, (title, lines, _) in enumerate(SLIDES)
    ]
    segments = [said(speech, i * 10.0 + 0.5) for i, (_, _, speech) in enumerate(SLIDES)]
    return segments, scenes


def blocks_of(chapter: Chapter) -> list[str]:
    assert len(chapter.sections) == 1
    return chapter.sections[0].markdown.split("\n\n")


def test_each_titled_slide_is_a_chapter_named_exactly_by_its_title() -> None:
    segments, scenes = slide_tour()  # 10 s and a dozen words a slide: short, yet chapters
    document = ExtractiveWriter().write(segments, scenes, "en", "en")
    assert [c.title for c in document.chapters] == [title for title, _, _ in SLIDES]
    assert [c.start_time for c in document.chapters] == [i * 10.0 for i in range(len(SLIDES))]
    assert document.title == "Welcome to Acme Docs"
    articles = render_markdown(document)
    assert [a.slug for a in articles][:3] == [
        "welcome-to-acme-docs",
        "step-1-create-a-project",
        "step-2-upload-a-video",
    ]


def test_an_article_is_summary_picture_steps_then_speech() -> None:
    segments, scenes = slide_tour()
    chapter = ExtractiveWriter().write(segments, scenes, "en", "en").chapters[1]
    blocks = blocks_of(chapter)
    # the spoken sentence closest to the title, linked to where it is said
    assert blocks[0] == "[video:00:10] First, create a project."
    assert blocks[1] == "![Step 1: Create a Project](screenshots/t000010000.webp)"
    assert blocks[2] == "1. Open the dashboard\n2. Click New project\n3. Type a name and press Save"
    assert blocks[3].startswith("[video:00:1") and blocks[3].endswith(
        "Open the dashboard and click New project."
    )
    assert "First, create a project." not in blocks[3]  # the summary is read once
    assert len(blocks) == 4


def test_steps_are_numbered_when_they_are_actions_else_bulleted() -> None:
    segments, scenes = slide_tour()
    document = ExtractiveWriter().write(segments, scenes, "en", "en")
    welcome, _, _, invite, export, what = (blocks_of(c) for c in document.chapters)
    assert "- Turn product videos into documentation\n- Works offline on one laptop" in welcome
    assert "1. Click the gear icon (top right)\n2. Open the Members tab" in invite
    assert "1. Open the Documentation tab\n2. Choose the Export tab" in export
    assert "- One article per chapter\n- Subtitles in each language" in what


def test_builds_of_one_slide_make_one_chapter_listing_each_line_once() -> None:
    title = "Step 3: Invite Your Team"
    lines = ["Click the gear icon (top right)", "Open the Members tab", "Type their email"]
    scenes = [
        slide_scene(0, "Step 2: Upload a Video", ["Drag the file onto the page"], 0.0, 8.0),
        # the same slide three times, one more line each time; once read a letter apart
        slide_scene(1, title, lines[:1], 8.0, 12.0),
        slide_scene(2, "Step 3: Invite Your Tearn", lines[:2], 12.0, 16.0),
        slide_scene(3, title, lines, 16.0, 24.0),
    ]
    segments = [
        said("Drag the file onto the page to upload it.", 0.5),
        said("Now we invite the team.", 8.5),
        said("The members tab lists everyone.", 12.5),
        said("Type an email address and press invite to send it.", 16.5),
    ]
    document = ExtractiveWriter().write(segments, scenes, "en", "en")
    assert [c.title for c in document.chapters] == ["Step 2: Upload a Video", title]
    markdown = document.chapters[1].sections[0].markdown
    for line in lines:
        assert markdown.count(line) == 1
    # the steps stay one numbered list, each line under the picture that first shows it
    assert "1. Click the gear icon (top right)" in markdown
    assert "2. Open the Members tab" in markdown and "3. Type their email" in markdown
    pictures = re.findall(r"\(screenshots/(t\d+)\.webp\)", markdown)
    assert pictures == ["t000008000", "t000012000", "t000016000"]
    assert markdown.index("t000012000") < markdown.index("2. Open") < markdown.index("t000016000")


def test_scenes_without_a_title_join_their_neighbour() -> None:
    scenes = [
        slide_scene(0, "", [], 0.0, 5.0),  # before the first slide: joins the first one
        slide_scene(1, "Create a Project", ["Click New project"], 5.0, 10.0),
        slide_scene(2, "", ["Projects", "Search", "Settings"], 10.0, 20.0),  # a screen demo
        slide_scene(3, "Upload a Video", ["Drag the file here"], 20.0, 30.0),
        slide_scene(4, "", [], 30.0, 35.0),
    ]
    segments = [
        said("Hello and welcome.", 0.5),
        said("Click new project to create one.", 5.5),
        said("Here is the project list in the app.", 10.5),
        said("Drag the file here to upload a video.", 20.5),
        said("That is all for today, thanks for watching.", 30.5),
    ]
    document = ExtractiveWriter().write(segments, scenes, "en", "en")
    assert [(c.title, c.start_time) for c in document.chapters] == [
        ("Create a Project", 0.0),
        ("Upload a Video", 20.0),
    ]
    first, second = (c.sections[0].markdown for c in document.chapters)
    assert "Hello and welcome." in first and "Here is the project list in the app." in first
    assert "That is all for today, thanks for watching." in second
    # what an untitled scene shows is interface text, not steps of the slide before
    assert "Search" not in first and "Settings" not in first
    assert first.count("](screenshots/") == 3 and second.count("](screenshots/") == 2


def test_on_screen_text_is_written_once_per_scene_however_much_is_said() -> None:
    lines = ["Open the settings page", "Choose a role", "Press Invite"]
    scenes = [slide_scene(0, "Invite Your Team", lines, 0.0, 60.0)]
    segments = [
        said(f"This is sentence number {n} about inviting people to your team.", n * 6.0)
        for n in range(9)
    ]
    markdown = ExtractiveWriter().write(segments, scenes, "en", "en").chapters[0]
    text = markdown.sections[0].markdown
    for line in lines:
        assert text.count(line) == 1
    assert len(find_video_references(text)) >= 2  # the speech keeps its links


def test_lower_case_speech_without_punctuation_is_written_as_sentences() -> None:
    # a recogniser without punctuation: no capitals, a pause between sentences
    scenes = [slide_scene(0, "Step 3: Invite Your Team", ["Open the Members tab"], 0.0, 20.0)]
    segments = [
        said("then invite your team", 0.5),
        said("open the members tab and type their email address", 4.0),
    ]
    blocks = blocks_of(ExtractiveWriter().write(segments, scenes, "en", "en").chapters[0])
    # the sentence that only says the title again is left out; the other one sums it up
    assert blocks[0] == "[video:00:04] Open the members tab and type their email address."
    assert "Then invite your team." not in "\n".join(blocks)


def test_titled_slides_without_speech_still_make_step_articles() -> None:
    _, scenes = slide_tour()
    document = ExtractiveWriter().write([], scenes, "en", "en")
    assert [c.title for c in document.chapters] == [title for title, _, _ in SLIDES]
    first = blocks_of(document.chapters[0])
    assert first[0] == NO_SPEECH_NOTE
    for chapter, (_, lines, _) in zip(document.chapters, SLIDES, strict=True):
        markdown = chapter.sections[0].markdown
        assert all(markdown.count(line) == 1 for line in lines)
        references = find_video_references(markdown)
        assert [r.seconds for r in references] == [chapter.start_time]


def test_text_read_off_a_slide_is_never_markdown() -> None:
    lines = ["Type [video:00:42] in *bold*", "Press <Enter>", "# of seats", "2024. A good year"]
    scenes = [slide_scene(0, "Shortcuts", lines, 0.0, 20.0)]
    document = ExtractiveWriter().write([said("Two shortcuts help.", 1.0)], scenes, "en", "en")
    markdown = document.chapters[0].sections[0].markdown
    assert [r.seconds for r in find_video_references(markdown)] == [1]
    assert "- Type \\[video:00:42\\] in \\*bold\\*" in markdown
    assert "- Press \\<Enter\\>" in markdown
    assert "- \\# of seats\n- 2024\\. A good year" in markdown
    html = MarkdownIt().render(markdown)
    assert "<li># of seats</li>" in html and "<li>2024. A good year</li>" in html
    assert "<li>Type [video:00:42] in *bold*</li>" in html
