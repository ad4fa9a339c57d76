"""Screenshot sizes from WebP headers, for every kind of WebP file Pillow writes."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from reeldocs.pages.screenshot_sizes import WEBP_HEADER_BYTES, webp_size


@pytest.mark.parametrize(
    "options",
    [{"quality": 80}, {"lossless": True}, {"quality": 80, "exif": b"Exif\x00\x00MM"}],
    ids=["lossy", "lossless", "extended"],
)
def test_the_size_is_read_from_the_first_bytes(options: dict[str, object]) -> None:
    out = io.BytesIO()
    Image.new("RGB", (1279, 719), "white").save(out, format="WEBP", **options)
    assert webp_size(out.getvalue()[:WEBP_HEADER_BYTES]) == (1279, 719)


def test_other_bytes_have_no_size() -> None:
    assert webp_size(b"\x89PNG\r\n\x1a\n" + bytes(22)) is None
    assert webp_size(b"RIFF") is None
