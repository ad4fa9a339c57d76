"""Language codes and the names people know them by, and the order they are listed in."""

from __future__ import annotations

from collections.abc import Iterable

from reeldocs.core.errors import Invalid

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


def check_languages(primary: list[str], targets: list[str], languages: list[str]) -> list[str]:
    """The languages of a job, the docs' language first, checked against what a server
    writes (`primary`) and translates into (`targets`); Invalid (a sentence) otherwise.
    The API checks with its own providers, `reeldocs process --server` with the server's
    `/api/languages`, so both say the same."""
    cleaned = [code.strip().lower() for code in languages]
    if not cleaned:
        raise Invalid("Pick at least one language.")
    duplicates = sorted({code for code in cleaned if cleaned.count(code) > 1})
    if duplicates:
        raise Invalid(f"Each language may be picked once; repeated: {', '.join(duplicates)}.")
    if cleaned[0] not in primary:
        also = (
            f", then {names(cleaned[:1])} as a translation"
            if cleaned[0] in targets and len(primary) == 1
            else ""
        )
        raise Invalid(
            f"This server cannot write docs in {named(cleaned[0])}: it writes them in "
            f"{names(primary, 'or')} and translates them from there. Pick "
            f"{names(primary, 'or')} first{also}."
        )
    unavailable = [code for code in cleaned[1:] if code not in targets]
    if unavailable:
        offered = f"It translates into {names(targets)}." if targets else "It translates into none."
        raise Invalid(f"This server cannot translate docs into {names(unavailable)}. {offered}")
    return cleaned


def named(code: str) -> str:
    name = language_name(code)
    return name if name != code else f"the language '{code}'"


def names(codes: list[str], last: str = "and") -> str:
    """'English', 'English or Spanish', 'Catalan, English and Spanish' (with codes kept for
    languages Reeldocs has no name for)."""
    names = [f"{language_name(code)} ({code})" for code in codes]
    if len(names) <= 1:
        return names[0] if names else "none"
    return f"{', '.join(names[:-1])} {last} {names[-1]}"


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
