"""How `reeldocs process` shows its videos: a live display on a terminal, a line per
change otherwise, or one JSON object per video with `--json`.

Whatever the display, a video that failed or was refused is a sentence on stderr, and so
is a translation that failed in a completed job.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import typer
from rich import filesize
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn

from reeldocs.providers.registry import language_name


@dataclass
class Followed:
    """One video of the command, from its file to its docs."""

    given: str  # the path as typed
    label: str  # the file's name, as the display shows it
    video_id: uuid.UUID | None = None
    job_id: uuid.UUID | None = None
    status: str = "pending"
    step: str = "queued"
    message: str = "Waiting for a worker"
    progress: float = 0.0
    language_results: dict[str, Any] = field(default_factory=dict)
    # Bytes sent or received so far and the total, while a file travels to or from a server.
    transferred: tuple[int, int | None] | None = None
    out: Path | None = None
    error: str | None = None
    ended: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "video": self.given,
            "job_id": str(self.job_id) if self.job_id else None,
            "status": self.status,
            "out": str(self.out) if self.out else None,
            "error": self.error,
            "language_results": self.language_results,
        }


def failed_translations(item: Followed) -> list[str]:
    """Sentences for the languages a completed job could not translate into."""
    sentences = []
    for code, result in item.language_results.items():
        if isinstance(result, dict) and result.get("status") == "failed":
            detail = result.get("detail")
            sentences.append(
                f"{item.label}: the {language_name(code)} ({code}) docs are missing"
                + (f": {detail}" if detail else ".")
            )
    return sentences


class Display:
    """Plain lines: one when a video's step changes, one when it ends."""

    def __init__(self) -> None:
        self._shown_steps: dict[int, str] = {}

    def __enter__(self) -> Display:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        return None

    def started(self, item: Followed) -> None:
        self.changed(item)

    def changed(self, item: Followed) -> None:
        """A line when the step changes: a transfer's bytes would be a line per chunk, so
        only its size is said, once."""
        line = item.message
        if item.transferred is not None and item.transferred[1] is not None:
            line = f"{line} ({filesize.decimal(item.transferred[1])})"
        if self._shown_steps.get(id(item)) != item.message:
            self._shown_steps[id(item)] = item.message
            self.say(f"{item.label}: {line}")

    def ended(self, item: Followed) -> None:
        self.report_problems(item)
        if item.status == "completed":
            self.say(f"{item.label}: completed; docs in {item.out}")
        else:
            self.say(f"{item.label}: {item.status}")

    def say(self, line: str) -> None:
        typer.echo(line)

    def report_problems(self, item: Followed) -> None:
        if item.status == "completed":
            for sentence in failed_translations(item):
                self.note(f"Warning: {sentence}")
        elif item.error:
            # A refused file is named by its path as given: the name alone may be ambiguous.
            name = item.given if item.status == "refused" else item.label
            self.note(f"Error: {name}: {item.error}")

    def note(self, sentence: str) -> None:
        typer.echo(sentence, err=True)

    def summary(self, items: list[Followed]) -> int:
        """The command's exit status: 0 when every video completed."""
        if items and all(item.status == "completed" for item in items):
            return 0
        return 1


class JsonDisplay(Display):
    """One JSON object per video, on its own line, when the video ends."""

    def changed(self, item: Followed) -> None:
        return None

    def ended(self, item: Followed) -> None:
        self.report_problems(item)
        self.say(json.dumps(item.as_json()))


class LiveDisplay(Display):
    """A row per video with its step and a bar, and a bar for all of them."""

    def __init__(self) -> None:
        super().__init__()
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            console=Console(),
        )
        self._errors = Console(stderr=True)
        self._rows: dict[int, TaskID] = {}
        self._items: list[Followed] = []
        self._overall = self._progress.add_task("All videos", total=0)

    def __enter__(self) -> Display:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def started(self, item: Followed) -> None:
        if id(item) in self._rows:  # shown already, while its file was sent
            return
        self._items.append(item)
        self._rows[id(item)] = self._progress.add_task(self._describe(item), total=1.0)
        self._update_overall()

    def changed(self, item: Followed) -> None:
        row = self._rows.get(id(item))
        if row is not None:
            self._progress.update(row, description=self._describe(item), completed=_share(item))
        self._update_overall()

    def ended(self, item: Followed) -> None:
        self.report_problems(item)
        if item.out is not None:
            # Above the bars, where a long path leaves them their width.
            self.say(f"{item.label}: docs in {item.out}")
        row = self._rows.get(id(item))
        if row is not None:
            done = item.status == "completed"
            self._progress.update(
                row,
                description=self._describe(item),
                completed=1.0 if done else item.progress,
            )
        self._update_overall()

    def say(self, line: str) -> None:
        self._progress.console.print(line, markup=False, highlight=False)

    def note(self, sentence: str) -> None:
        self._errors.print(sentence, markup=False, highlight=False)

    def _describe(self, item: Followed) -> str:
        if item.ended:
            state = item.status
        elif item.transferred is not None:
            done, total = item.transferred
            state = f"{item.message} {filesize.decimal(done)}" + (
                f" of {filesize.decimal(total)}" if total is not None else ""
            )
        else:
            state = item.message
        return f"{item.label}: {state}".replace("[", r"\[")

    def _update_overall(self) -> None:
        total = len(self._items)
        done = sum(1.0 if item.ended else item.progress for item in self._items)
        self._progress.update(self._overall, total=max(total, 1), completed=done)


def _share(item: Followed) -> float:
    """How full a video's bar is: the share of its file sent or received while it
    travels, else its job's progress."""
    if item.transferred is not None:
        done, total = item.transferred
        return done / total if total else 0.0
    return item.progress


def open_display(*, as_json: bool, terminal: bool) -> Display:
    if as_json:
        return JsonDisplay()
    if terminal:
        return LiveDisplay()
    return Display()
