"""On-screen text with Tesseract, on slides rendered like the test videos' own."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from support.media_factory import (
    DARK_THEME,
    PRODUCT_TOUR,
    TitledSlide,
    _slide_font,
    render_slide,
    render_textless_pictures,
    render_titled_slide,
)

from reeldocs.media import ocr
from reeldocs.media.frames import WEBP_QUALITY
from reeldocs.media.ocr import OcrWord, ScreenText, screen_text

needs_tesseract = pytest.mark.skipif(
    not ocr.available(), reason="Debian's tesseract-ocr is not installed (make test installs it)"
)


def save_as_screenshot(picture: Image.Image, path: Path) -> Path:
    """As the pipeline stores scene screenshots: lossy WebP."""
    picture.save(path, quality=WEBP_QUALITY, method=2)
    return path


# Every slide of the product tour in both themes: light text on dark and dark on light.
BOTH_THEMES = [
    *PRODUCT_TOUR,
    *(TitledSlide(s.title, s.bullets, dark=not s.dark, numbered=s.numbered) for s in PRODUCT_TOUR),
]


@needs_tesseract
@pytest.mark.parametrize("size", [(1280, 720), (960, 540), (640, 360)])
def test_reads_every_title_and_bullet_of_light_and_dark_slides_exactly(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    paths = [
        save_as_screenshot(render_titled_slide(slide, size), tmp_path / f"slide-{index}.webp")
        for index, slide in enumerate(BOTH_THEMES)
    ]
    read = ocr.read_screen_texts(paths)
    for slide, text in zip(BOTH_THEMES, read, strict=True):
        # bullet dots and "1." numbers are list markers, not text
        assert text == ScreenText(slide.title, (slide.title, *slide.bullets)), slide


@needs_tesseract
def test_pictures_without_text_give_no_title_and_no_lines(tmp_path: Path) -> None:
    pictures = render_textless_pictures((1280, 720)) | {
        f"small {name}": picture for name, picture in render_textless_pictures((640, 360)).items()
    }
    paths = [
        save_as_screenshot(picture, tmp_path / f"{index}.webp")
        for index, picture in enumerate(pictures.values())
    ]
    for name, text in zip(pictures, ocr.read_screen_texts(paths), strict=True):
        assert text == ScreenText(), name


@needs_tesseract
def test_a_light_title_on_a_dark_band_of_a_light_slide_is_read(tmp_path: Path) -> None:
    slide = PRODUCT_TOUR[4]
    picture = render_titled_slide(TitledSlide("", slide.bullets, numbered=True), (1280, 720))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 0, 1280, 180), fill=DARK_THEME.background)
    draw.text((90, 60), slide.title, font=_slide_font(65, bold=True), fill=DARK_THEME.title_ink)
    text = ocr.read_screen_text(save_as_screenshot(picture, tmp_path / "band.webp"))
    assert text == ScreenText(slide.title, (slide.title, *slide.bullets))


@needs_tesseract
def test_lines_that_wrapped_are_joined(tmp_path: Path) -> None:
    picture = Image.new("RGB", (1280, 720), (250, 250, 250))
    draw = ImageDraw.Draw(picture)
    body = _slide_font(30, bold=False)
    draw.text((80, 50), "Keyboard Shortcuts", font=_slide_font(64, bold=True), fill=(0, 0, 0))
    # list items 60 pixels apart; the second wrapped, its rest 36 pixels (1.2 em) below
    rows = [
        (200, "Press Ctrl and S to save the page"),
        (260, "Press Ctrl and F to search for"),
        (296, "anything in the project"),
        (356, "Press Escape to close a dialog"),
    ]
    for top, line in rows:
        draw.text((120, top), line, font=body, fill=(0, 0, 0))
    text = ocr.read_screen_text(save_as_screenshot(picture, tmp_path / "keys.webp"))
    assert text == ScreenText(
        "Keyboard Shortcuts",
        (
            "Keyboard Shortcuts",
            "Press Ctrl and S to save the page",
            "Press Ctrl and F to search for anything in the project",
            "Press Escape to close a dialog",
        ),
    )


@needs_tesseract
def test_columns_are_read_one_after_the_other(tmp_path: Path) -> None:
    picture = Image.new("RGB", (1280, 720), (244, 244, 238))
    draw = ImageDraw.Draw(picture)
    draw.text((90, 60), "Plans Compared", font=_slide_font(64, bold=True), fill=(0, 0, 0))
    left = ["Free plan for one", "Three projects", "Community help"]
    right = ["Team plan for all", "Unlimited projects", "Priority support"]
    body = _slide_font(32, bold=False)
    for index, (first, second) in enumerate(zip(left, right, strict=True)):
        draw.text((90, 240 + index * 80), first, font=body, fill=(0, 0, 0))
        draw.text((700, 240 + index * 80), second, font=body, fill=(0, 0, 0))
    text = ocr.read_screen_text(save_as_screenshot(picture, tmp_path / "columns.webp"))
    assert text.lines == ("Plans Compared", *left, *right)


@needs_tesseract
def test_a_slide_with_only_a_title_has_that_title(tmp_path: Path) -> None:
    path = save_as_screenshot(render_slide("Create a project", (1280, 720)), tmp_path / "t.webp")
    assert ocr.read_screen_text(path) == ScreenText("Create a project", ("Create a project",))


@needs_tesseract
def test_small_interface_text_is_read_but_is_no_title(tmp_path: Path) -> None:
    picture = Image.new("RGB", (1280, 720), (244, 244, 238))
    draw = ImageDraw.Draw(picture)
    font = _slide_font(16, bold=False)
    for index, label in enumerate(["Projects", "Recent videos", "Account settings"]):
        draw.text((40, 40 + index * 30), label, font=font, fill=(30, 34, 40))
    text = ocr.read_screen_text(save_as_screenshot(picture, tmp_path / "sidebar.webp"))
    assert text == ScreenText("", ("Projects", "Recent videos", "Account settings"))


@needs_tesseract
def test_several_pictures_keep_their_order_and_a_broken_one_its_place(tmp_path: Path) -> None:
    titles = ["Invite your team", "Upload a video", "Export subtitles"]
    paths = [
        save_as_screenshot(render_slide(title, (960, 540)), tmp_path / f"slide-{index}.webp")
        for index, title in enumerate(titles)
    ]
    broken = tmp_path / "broken.webp"
    broken.write_bytes(b"not a picture")
    read = ocr.read_screen_texts([paths[0], broken, paths[1], paths[2]])
    assert [text.title for text in read] == [titles[0], "", titles[1], titles[2]]


def test_without_tesseract_scenes_get_no_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "slide.png"
    render_slide("Create a project", (640, 360)).save(path)
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    assert ocr.read_screen_texts([path, path]) == [ScreenText(), ScreenText()]


# --- from Tesseract's words to lines and a title (no Tesseract needed) -------------------


def words(text: str, left: int, top: int, height: int, confidence: float = 95) -> list[OcrWord]:
    """A line of words as Tesseract reports them, each word as wide as 0.6 em per letter."""
    result: list[OcrWord] = []
    for token in text.split():
        width = max(1, round(len(token) * height * 0.6))
        result.append(OcrWord(token, left, top, width, height, confidence))
        left += width + height // 3
    return result


def test_a_line_that_is_not_confidently_words_is_never_a_title() -> None:
    # what light-on-dark text gives when read as it is: large, and garbage
    garbage = words("So) (<) oRCME ANU I(cm COLUM R=rela0", 90, 60, 64, confidence=26)
    body = words("Click the gear icon", 130, 250, 30)
    assert screen_text([garbage, body], 720) == ScreenText("", ("Click the gear icon",))
    # large and confident on average, but with a word Tesseract was unsure of
    unsure = words("Invite Your Whole Team", 90, 60, 64)
    unsure[1] = OcrWord("Yuor", unsure[1].left, 60, 100, 64, confidence=45)
    assert screen_text([unsure, body], 720) == ScreenText(
        "", ("Invite Yuor Whole Team", "Click the gear icon")
    )


def test_the_title_is_the_top_most_large_line() -> None:
    small_header = words("Acme Docs tutorial", 90, 20, 22)
    title = words("Invite Your Team", 90, 80, 64)
    body = [words("Open the Members tab", 130, 250, 30), words("Type an email", 130, 330, 30)]
    late_large = words("Questions", 90, 500, 64)
    text = screen_text([small_header, title, *body, late_large], 720)
    assert text.title == "Invite Your Team"
    assert text.lines[:2] == ("Acme Docs tutorial", "Invite Your Team")


def test_a_title_on_several_lines_is_one_title() -> None:
    first = words("Connect Your Calendar", 90, 60, 64)
    second = words("and Your Mail to", 90, 140, 64)
    third = words("Acme Docs", 90, 220, 64)
    body = words("Open the Integrations page", 130, 380, 30)
    text = screen_text([first, second, third, body], 720)
    assert text.title == "Connect Your Calendar and Your Mail to Acme Docs"
    assert text.lines == (text.title, "Open the Integrations page")


def test_a_paragraph_on_two_lines_is_not_taken_for_a_large_title() -> None:
    paragraph = [
        words("Reeldocs reads every slide and", 90, 60, 30),
        words("writes the documentation for you", 90, 96, 30),
    ]
    items = [words("Open a project", 90, 200, 30), words("Upload a video", 90, 260, 30)]
    text = screen_text([*paragraph, *items], 720)
    assert text == ScreenText(
        "",
        (
            "Reeldocs reads every slide and writes the documentation for you",
            "Open a project",
            "Upload a video",
        ),
    )


def test_list_markers_are_taken_off_but_words_are_not() -> None:
    dot = OcrWord("e", 95, 262, 11, 11, 40)  # a round bullet, read as "e"
    lines = [
        [dot, *words("Open the dashboard", 137, 250, 30)],
        words("a name is needed", 137, 330, 30),  # "a" is a word: as tall, and close
        words("3. Press Save", 95, 410, 30),
        words("• Invite people", 95, 490, 30),
        words("- Choose a role", 95, 570, 30),
        words("› Send", 95, 650, 30),
    ]
    text = screen_text(lines, 720)
    assert text.lines == (
        "Open the dashboard",
        "a name is needed",
        "Press Save",
        "Invite people",
        "Choose a role",
        "Send",
    )


def test_the_rest_of_a_list_item_joins_it_even_in_upper_case() -> None:
    item = [OcrWord("*", 95, 262, 11, 11, 60), *words("Invite people from the", 137, 250, 30)]
    rest = words("Settings page", 137, 290, 30)
    following = [OcrWord("*", 95, 352, 11, 11, 60), *words("Choose a role", 137, 340, 30)]
    text = screen_text([item, rest, following], 720)
    assert text.lines == ("Invite people from the Settings page", "Choose a role")
