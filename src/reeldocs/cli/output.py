"""How the commands print: flags in their help, aligned columns a person reads and `awk`
splits; `Commands`, the command groups whose help shows every flag without a value."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

COLUMN_GAP = "  "


def flag(name: str, help: str) -> Any:
    """A bool option that takes no value. Typer's help would show a type after it (as if
    it took one, `--json <bool>`); an empty metavar shows none."""
    return typer.Option(name, help=help, metavar="")


class _HelpShownAsFlag:
    """Typer's help shows `--help <bool>`, as if it took a value: no value is shown."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.metavar = ""
        return option


class Command(_HelpShownAsFlag, TyperCommand):
    pass


class Group(_HelpShownAsFlag, TyperGroup):
    pass


class Commands(typer.Typer):
    """A `typer.Typer` whose commands and group use the classes above."""

    def __init__(self, **options: Any) -> None:
        super().__init__(cls=Group, **options)

    def command(self, name: str | None = None, **options: Any) -> Any:
        options.setdefault("cls", Command)
        return super().command(name, **options)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns under upper-case headers, without trailing spaces."""
    widths = [
        max([len(header), *(len(row[i]) for row in rows)]) for i, header in enumerate(headers)
    ]
    lines = [
        COLUMN_GAP.join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [[header.upper() for header in headers], *rows]
    ]
    return "\n".join(lines)


def moment(when: datetime | None, missing: str = "never") -> str:
    """A timestamp in the machine's time zone, to the second."""
    if when is None:
        return missing
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def shortened(text: str, limit: int) -> str:
    """At most `limit` characters: long titles must not push the other columns away."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
