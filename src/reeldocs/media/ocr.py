"""On-screen text, read from screenshots with Tesseract (Debian's `tesseract-ocr`).

Optional: without the `tesseract` command, scenes simply carry no text. Slides and
screen recordings usually show their subject in large type, which is what gives
offline chapters real titles and articles their steps.

Each picture is prepared before Tesseract sees it: turned grey, areas on a dark
background inverted (light text on dark reads as garbage otherwise; Tesseract's own
second pass for inverted text costs a fifth more time and misses dark title bands on
light slides), and small pictures enlarged so body text has enough pixels. Tesseract
then reads it once, as sparse text (`--psm 11`: slides and interfaces are short lines
scattered over the picture, not pages of prose), and its TSV output gives every word
with its box and confidence (ocr_layout.py turns those into lines and a title). A line
Tesseract was sure of in part and unsure of elsewhere (a one-letter word beside a
bullet dot: "A screenshot" read as "Ascreenshot", at 5 %) gets a second look on its own,
without its marker, half as large again: the reading Tesseract is surer of is kept.
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from PIL import Image, ImageFilter, ImageOps

from reeldocs.media.ocr_layout import (
    Line,
    OcrWord,
    ScreenText,
    candidate_lines,
    composed,
    is_unsure,
    screen_text,
)

__all__ = [
    "OcrWord",
    "ScreenText",
    "available",
    "read_screen_text",
    "read_screen_texts",
    "screen_text",
]

_logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
# Pictures less tall than this are enlarged to it first: at 360p, 16-pixel body text
# read "Turn" as "Tum"; enlarged, it reads right (and costs ~15 ms more per picture).
MIN_READING_HEIGHT = 540
# A background is dark (and its area inverted) below this grey level, judged on the
# median of blocks of BACKGROUND_BLOCK pixels over a window of BACKGROUND_WINDOW blocks,
# so text strokes never decide it.
DARK_BACKGROUND_LEVEL = 128
BACKGROUND_BLOCK = 8
BACKGROUND_WINDOW = 9
# An unsure line is looked at again this much larger, with this margin (in line heights).
SECOND_LOOK_SCALE = 1.5
SECOND_LOOK_MARGIN = 0.3
# Tesseract in one process per this many pictures at most: loading its model costs
# ~0.1 CPU-seconds, reading a 720p screenshot ~0.08.
PICTURES_PER_PROCESS = 6

_Pages = dict[int, list[list[OcrWord]]]


def available() -> bool:
    return shutil.which("tesseract") is not None


def read_screen_text(image: Path, language: str = "eng") -> ScreenText:
    """What `image` shows in words; empty when Tesseract reads nothing or fails."""
    return read_screen_texts([image], language=language)[0]


def read_screen_texts(
    images: Sequence[Path], workers: int = 2, language: str = "eng"
) -> list[ScreenText]:
    """The text of each image, in order, shared among at most `workers` Tesseract processes."""
    if not images or not available():
        return [ScreenText() for _ in images]
    processes = max(1, min(workers, -(-len(images) // PICTURES_PER_PROCESS)))
    size = -(-len(images) // processes)
    chunks = [list(images[i : i + size]) for i in range(0, len(images), size)]
    with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        return [
            text
            for part in pool.map(_read_chunk, chunks, [language] * len(chunks))
            for text in part
        ]


def _read_chunk(images: Sequence[Path], language: str) -> list[ScreenText]:
    """One Tesseract process for many pictures: its model loads once, not per picture."""
    results = [ScreenText() for _ in images]
    with tempfile.TemporaryDirectory(prefix="reeldocs-ocr-") as tmp:
        folder = Path(tmp)
        prepared: list[tuple[int, Path, int]] = []  # (index in images, file, height)
        for index, image in enumerate(images):
            target = folder / f"{index}.pgm"
            height = _prepare(image, target)
            if height:
                prepared.append((index, target, height))
        if not prepared:
            return results
        pages = _tesseract([path for _, path, _ in prepared], folder / "pictures.txt", language)
        lines = [candidate_lines(pages.get(page, [])) for page in range(1, len(prepared) + 1)]
        _second_look(lines, [path for _, path, _ in prepared], folder, language)
    for (index, _, height), found in zip(prepared, lines, strict=True):
        results[index] = composed(found, height)
    return results


def _tesseract(pictures: list[Path], listing: Path, language: str, psm: str = "11") -> _Pages:
    """The words Tesseract reads in each picture, by page (1-based, in list order) and line;
    nothing for a picture when it fails."""
    listing.write_text("".join(f"{path}\n" for path in pictures))
    command = ["tesseract", str(listing), "stdout", "-l", language, "--psm", psm]
    # the pictures come prepared: Tesseract's own pass for inverted text would only
    # re-read noise
    command += ["-c", "tessedit_do_invert=0", "tsv"]
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS + 2 * len(pictures),
            check=False,
            # one thread each: read_screen_texts already runs one Tesseract per core
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        _logger.warning("could not read on-screen text: %s", error)
        return {}
    if result.returncode != 0:
        _logger.warning("tesseract failed: %s", result.stderr.strip()[-200:])
    return _words_by_page(result.stdout)


def _words_by_page(tsv: str) -> _Pages:
    """Words of Tesseract's TSV output by page, each page's words grouped by line."""
    pages: dict[int, dict[tuple[int, int, int], list[OcrWord]]] = {}
    for row in tsv.splitlines()[1:]:
        columns = row.split("\t")
        # level 5 rows are words: level, page, block, paragraph, line, word, box, conf, text
        if len(columns) < 12 or columns[0] != "5" or not columns[11].strip():
            continue
        try:
            page, block, paragraph, line = (int(c) for c in columns[1:5])
            left, top, width, height = (int(c) for c in columns[6:10])
            confidence = float(columns[10])
        except ValueError:
            continue
        word = OcrWord(columns[11].strip(), left, top, width, height, confidence)
        pages.setdefault(page, {}).setdefault((block, paragraph, line), []).append(word)
    return {page: list(lines.values()) for page, lines in pages.items()}


def _second_look(
    lines: list[list[Line]], pictures: list[Path], folder: Path, language: str
) -> None:
    """Read each unsure line again on its own, in one more Tesseract run for all of them;
    a reading Tesseract is surer of replaces the first."""
    unsure: list[tuple[int, int, tuple[int, int, int, int]]] = []  # (picture, line, crop)
    crops: list[Path] = []
    for number, (found, picture) in enumerate(zip(lines, pictures, strict=True)):
        wanted = [(index, line) for index, line in enumerate(found) if is_unsure(line)]
        if not wanted:
            continue
        with Image.open(picture) as image:
            for index, line in wanted:
                box = _crop_box(line, image.size)
                crop = image.crop(box)
                crop = crop.resize(
                    (round(crop.width * SECOND_LOOK_SCALE), round(crop.height * SECOND_LOOK_SCALE)),
                    Image.Resampling.BICUBIC,
                )
                path = folder / f"line-{len(crops)}.pgm"
                crop.save(path, format="PPM")
                crops.append(path)
                unsure.append((number, index, box))
    if not crops:
        return
    pages = _tesseract(crops, folder / "lines.txt", language, psm="7")
    for page, (number, index, (left, top, _, _)) in enumerate(unsure, start=1):
        words = [
            OcrWord(
                w.text,
                left + round(w.left / SECOND_LOOK_SCALE),
                top + round(w.top / SECOND_LOOK_SCALE),
                round(w.width / SECOND_LOOK_SCALE),
                round(w.height / SECOND_LOOK_SCALE),
                w.confidence,
            )
            for found in pages.get(page, [])
            for w in found
        ]
        first = lines[number][index]
        if words and statistics.fmean(w.confidence for w in words) > first.confidence:
            lines[number][index] = replace(first, words=tuple(sorted(words, key=lambda w: w.left)))


def _crop_box(line: Line, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The line with a margin around it, short of the list marker on its left."""
    margin = round(SECOND_LOOK_MARGIN * line.height)
    left_margin = margin
    if line.marker_right is not None:
        left_margin = min(margin, max(0, (line.left - line.marker_right) // 2))
    width, height = size
    return (
        max(0, line.left - left_margin),
        max(0, line.top - margin),
        min(width, line.right + margin),
        min(height, line.bottom + margin),
    )


def _prepare(image: Path, target: Path) -> int:
    """Write the picture as Tesseract reads it best; its height then, 0 when unreadable."""
    try:
        with Image.open(image) as picture:
            grey = picture.convert("L")
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        _logger.warning("could not open %s for reading its text: %s", image.name, error)
        return 0
    grey = _dark_areas_inverted(grey)
    if grey.height < MIN_READING_HEIGHT:
        scale = MIN_READING_HEIGHT / grey.height
        grey = grey.resize(
            (max(1, round(grey.width * scale)), MIN_READING_HEIGHT), Image.Resampling.BICUBIC
        )
    grey.save(target, format="PPM")
    return grey.height


def _dark_areas_inverted(grey: Image.Image) -> Image.Image:
    """Dark text on light everywhere: areas whose background is dark are inverted."""
    reach = BACKGROUND_BLOCK * BACKGROUND_WINDOW
    if grey.width < reach or grey.height < reach:
        small = grey.resize((1, 1), Image.Resampling.BOX)
    else:
        small = grey.reduce(BACKGROUND_BLOCK).filter(ImageFilter.MedianFilter(BACKGROUND_WINDOW))
    dark = small.point(lambda level: 255 if level < DARK_BACKGROUND_LEVEL else 0)
    lowest, highest = dark.getextrema()  # type: ignore[misc]  # one band: two numbers
    if highest == 0:
        return grey
    if lowest == 255:
        return ImageOps.invert(grey)
    mask = dark.resize(grey.size, Image.Resampling.NEAREST)
    return Image.composite(ImageOps.invert(grey), grey, mask)
