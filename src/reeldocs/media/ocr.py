"""On-screen text, read from screenshots with Tesseract (Debian's `tesseract-ocr`).

Optional: without the `tesseract` command, scenes simply carry no text. Slides
and screen recordings usually show their subject in large type, which is what
gives offline chapters real titles and segments a useful visual context.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

_logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
MAX_CHARACTERS = 300
# A line is kept when it reads like words: mostly letters, at least one real word.
_WORD = re.compile(r"[A-Za-zÀ-ÿ]{2,}")


def available() -> bool:
    return shutil.which("tesseract") is not None


def clean_text(raw: str) -> str:
    """Keep the lines that read like text; drop OCR noise from icons and borders."""
    kept: list[str] = []
    for line in raw.splitlines():
        line = " ".join(line.split())
        if len(line) < 3:
            continue
        letters = sum(ch.isalpha() for ch in line)
        if letters / len(line) < 0.6 or not _WORD.search(line):
            continue
        kept.append(line)
    text = "\n".join(kept)
    return text[:MAX_CHARACTERS].rsplit("\n", 1)[0] if len(text) > MAX_CHARACTERS else text


def _tesseract_pages(images: Sequence[Path], language: str) -> list[str]:
    """One Tesseract process for many images: the model loads once, not per picture.

    TSV output numbers each word's page (1-based, in list order), so a picture with no
    text still keeps its place.
    """
    with tempfile.TemporaryDirectory(prefix="reeldocs-ocr-") as tmp:
        listing = Path(tmp) / "images.txt"
        listing.write_text("".join(f"{image}\n" for image in images))
        try:
            result = subprocess.run(
                ["tesseract", str(listing), "stdout", "-l", language, "--psm", "3"]
                # no second pass looking for light-on-dark text: slides rarely need it
                + ["-c", "tessedit_do_invert=0", "tsv"],
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS + 2 * len(images),
                check=False,
                # one thread each: read_texts already runs one Tesseract per core
                env={**os.environ, "OMP_THREAD_LIMIT": "1"},
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            _logger.warning("could not read on-screen text: %s", error)
            return ["" for _ in images]
    if result.returncode != 0:
        _logger.warning("tesseract failed: %s", result.stderr.strip()[-200:])
    lines: dict[int, dict[tuple[int, int, int], list[str]]] = {}
    for row in result.stdout.splitlines()[1:]:
        columns = row.split("\t")
        # level 5 rows are words: level, page, block, paragraph, line, word, box…, text
        if len(columns) < 12 or columns[0] != "5" or not columns[11].strip():
            continue
        page, block, paragraph, line = (int(c) for c in columns[1:5])
        lines.setdefault(page, {}).setdefault((block, paragraph, line), []).append(columns[11])
    return [
        clean_text("\n".join(" ".join(words) for _, words in sorted(lines.get(n, {}).items())))
        for n in range(1, len(images) + 1)
    ]


def read_text(image: Path, language: str = "eng") -> str:
    """The text Tesseract reads in `image`, cleaned; empty when it reads none or fails."""
    return _tesseract_pages([image], language)[0]


def read_texts(images: Sequence[Path], workers: int = 2, language: str = "eng") -> list[str]:
    """Text of each image, in order: the images shared among one Tesseract per core."""
    if not images or not available():
        return ["" for _ in images]
    size = -(-len(images) // workers)
    chunks = [list(images[i : i + size]) for i in range(0, len(images), size)]
    with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        return [
            text
            for part in pool.map(_tesseract_pages, chunks, [language] * len(chunks))
            for text in part
        ]
