"""Language codes and the names people know them by, and the order they are listed in."""

from __future__ import annotations

from collections.abc import Iterable

LANGUAGE_NAMES = {
    "en": "English",
    "es": "Spanish",
    "ca": "Catalan",
    "gl": "Galician",
    "eo": "Esperanto",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "sv": "Swedish",
    "pl": "Polish",
    "ru": "Russian",
    "uk": "Ukrainian",
    "ja": "Japanese",
    "ko": "Korean",
    "zh": "Chinese",
    "ar": "Arabic",
    "hi": "Hindi",
    "tr": "Turkish",
    "da": "Danish",
    "fi": "Finnish",
    "no": "Norwegian",
    "cs": "Czech",
    "el": "Greek",
    "he": "Hebrew",
    "id": "Indonesian",
    "vi": "Vietnamese",
    "ro": "Romanian",
    "hu": "Hungarian",
}


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def ordered_languages(codes: Iterable[str], primary: str | None = None) -> list[str]:
    """`codes` as menus and players list them: the primary language first, then by name
    (never by code, which would put Catalan before English)."""
    return sorted(
        set(codes), key=lambda code: (code != primary, language_name(code).casefold(), code)
    )
