"""The one error media analysis raises: a sentence the person who uploaded can act on."""

from __future__ import annotations


class MediaError(Exception):
    """The file cannot be used as a video. Permanent: retrying the same file gives the same error.

    `message` is a full sentence meant for the person who uploaded the file.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


NOT_READABLE = "This file is not a video Reeldocs can read"
ACCEPTED_FORMATS = "Please upload an MP4, MOV, WebM or MKV video"
