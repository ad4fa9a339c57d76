"""Two texts compared line by line, as pages show it: the lines in both, the lines only the
first has, the lines only the second has, with a few lines of context around changes.

The API gives the same comparison as a unified diff (`reeldocs.docs.editing.unified_diff`);
pages show rows a person reads without knowing that format.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

CONTEXT_LINES = 2

LineKind = Literal["same", "removed", "added", "gap"]


@dataclass(frozen=True)
class DiffLine:
    kind: LineKind
    text: str


def diff_lines(before: str, after: str, *, context: int = CONTEXT_LINES) -> list[DiffLine]:
    """What changes from `before` to `after`; unchanged stretches longer than the context
    become a single `gap` row. Empty when the texts are the same."""
    old, new = before.splitlines(), after.splitlines()
    if old == new:
        return []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    rows: list[DiffLine] = []
    groups = list(matcher.get_grouped_opcodes(context))
    for group in groups:
        if rows or group[0][1] > 0:
            rows.append(DiffLine("gap", ""))
        for operation, i1, i2, j1, j2 in group:
            if operation == "equal":
                rows.extend(DiffLine("same", line) for line in old[i1:i2])
                continue
            rows.extend(DiffLine("removed", line) for line in old[i1:i2])
            rows.extend(DiffLine("added", line) for line in new[j1:j2])
    if groups[-1][-1][2] < len(old):
        rows.append(DiffLine("gap", ""))
    return rows
