"""Small text helpers shared by several domains."""

from __future__ import annotations

import re
import unicodedata


def slugify(value: str, *, fallback: str = "item", max_length: int = 60) -> str:
    normalised = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", normalised.lower()).strip("-")
    return slug[:max_length].strip("-") or fallback


_EMAIL_SHAPE = r"[^@\s]+@[^@\s]+\.[^@\s]+"
EMAIL_RE = re.compile(rf"^{_EMAIL_SHAPE}$")

# What the API documents of fields it checks itself, with a sentence of its own when they
# are wrong: the shape as sent, before the spaces around it are dropped and capitals lowered.
EMAIL_FIELD_PATTERN = rf"^\s*{_EMAIL_SHAPE}\s*$"
LANGUAGE_CODE_FIELD_PATTERN = r"^\s*[A-Za-z]{2,3}\s*$"


def normalise_email(value: str) -> str:
    return value.strip().lower()


def printable(text: str) -> str:
    """`text` as a person should see it: control characters, terminal escapes, direction
    overrides and zero-width characters become spaces, and runs of space become one.
    For names and titles shown to others, where an invisible character could hide or
    reorder what is displayed (a name that reads right to left in a member list)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def has_invisible_characters(text: str) -> bool:
    """True when `text` holds a control, formatting or other unprintable character."""
    return not all(ch.isprintable() for ch in text)


INVISIBLE_IN_EMAIL = (
    "An e-mail address cannot contain control characters or invisible formatting "
    "characters (such as zero-width spaces or right-to-left marks); type it again by hand."
)
