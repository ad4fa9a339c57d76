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


# Each language's name in itself: what a language switcher shows, so that a reader finds
# their own language whatever the page around it is written in.
LANGUAGE_ENDONYMS = {
    "en": "English",
    "es": "Español",
    "ca": "Català",
    "gl": "Galego",
    "eo": "Esperanto",
    "fr": "Français",
    "de": "Deutsch",
    "it": "Italiano",
    "pt": "Português",
    "nl": "Nederlands",
    "sv": "Svenska",
    "pl": "Polski",
    "ru": "Русский",
    "uk": "Українська",
    "ja": "日本語",
    "ko": "한국어",
    "zh": "中文",
    "ar": "العربية",
    "hi": "हिन्दी",
    "tr": "Türkçe",
    "da": "Dansk",
    "fi": "Suomi",
    "no": "Norsk",
    "cs": "Čeština",
    "el": "Ελληνικά",
    "he": "עברית",
    "id": "Bahasa Indonesia",
    "vi": "Tiếng Việt",
    "ro": "Română",
    "hu": "Magyar",
}


def language_endonym(code: str) -> str:
    return LANGUAGE_ENDONYMS.get(code, language_name(code))


RIGHT_TO_LEFT = frozenset({"ar", "he", "fa", "ur", "yi"})


def text_direction(code: str) -> str:
    """`rtl` for languages written right to left, else `ltr`: a page's `dir` for them."""
    return "rtl" if code in RIGHT_TO_LEFT else "ltr"
