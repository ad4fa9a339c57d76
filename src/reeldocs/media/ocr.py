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


def read_text(image: Path, language: str = "eng") -> str:
    """The text Tesseract reads in `image`, cleaned; empty when it reads none or fails."""
    try:
        result = subprocess.run(
            ["tesseract", str(image), "stdout", "-l", language, "--psm", "3"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
            # one thread each: read_texts already runs one Tesseract per core
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        _logger.warning("could not read text in %s: %s", image.name, error)
        return ""
    if result.returncode != 0:
        _logger.warning("tesseract failed on %s: %s", image.name, result.stderr.strip()[-200:])
        return ""
    return clean_text(result.stdout)


def read_texts(images: Sequence[Path], workers: int = 2) -> list[str]:
    """Text of each image, in order, two at a time (one Tesseract per core)."""
    if not images or not available():
        return ["" for _ in images]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(read_text, images))
