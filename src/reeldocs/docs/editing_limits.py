"""How much a person may write into the docs at once.

Generated articles run to a few thousand characters; the request body cap (512 KB) leaves
room for the largest article allowed here even when every character takes several bytes
in JSON.
"""

from __future__ import annotations

MAX_TITLE_CHARACTERS = 300
MAX_MARKDOWN_CHARACTERS = 100_000
# A segment is a sentence or a few: a whole transcript pasted into one is a mistake.
MAX_SEGMENT_CHARACTERS = 5_000
