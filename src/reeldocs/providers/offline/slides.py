"""Chapters that follow the slides: one per slide title, written as a step-by-step article.

A scene whose on-screen title differs from the slide before starts a chapter; builds of
one slide (the same title, read the same or nearly so) and scenes without a title stay
with their neighbour. Each article reads like the step guides tools such as Scribe and
Tango make: a one-line summary taken from what is said (the spoken sentence closest to
the slide's title), the slide's picture, its bullet lines as a numbered list when they
read as actions ("Click…", "Open…") or else as a bulleted list, then what was said, in
paragraphs that link to their moment of the video.
"""

from __future__ import annotations

import re
from collections import Counter
from difflib import SequenceMatcher
from pathlib import PurePosixPath

from reeldocs.docs.references import format_timestamp, video_reference
from reeldocs.providers.offline.prose import (
    Part,
    Sentence,
    paragraphs,
    summary_line,
    summary_sentence,
    topic_words,
)

# Two readings of a slide title at least this alike are one slide (OCR reads builds of a
# slide a letter apart now and then).
SAME_TITLE_RATIO = 0.85

# Verbs that open an instruction in interface documentation.
IMPERATIVE_VERBS = frozenset(
    """accept activate add adjust allow apply approve archive assign attach browse build
    cancel change check choose clear click close collapse configure confirm connect copy
    create customise customize cut define delete deselect disable disconnect download drag
    drop duplicate edit enable enter expand export fill filter find follow go grant hide
    highlight hit hover import insert install invite launch leave link load log login
    logout mark move name navigate open paste pick pin place press preview print publish
    record refresh reload remove rename reorder repeat replace reply request reset resize
    restart restore return review revoke right-click run save scan schedule scroll search
    select send set share show sign sort specify start stop submit switch swipe sync tap
    tick toggle turn type uncheck undo unlink unlock update upgrade upload use verify view
    visit wait write zoom double-click""".split()
)
_STEP_PREFIX = re.compile(r"^step\s*\d+\s*[:.)\-–—]\s*", re.IGNORECASE)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>])")
# What would open a heading, a list or a rule at the start of a line
_MARKDOWN_OPENING = re.compile(r"^(\d*)([#+=.)-])")


def same_title(a: str, b: str) -> bool:
    left, right = _title_key(a), _title_key(b)
    if not left or not right:
        return False
    return left == right or SequenceMatcher(None, left, right).ratio() >= SAME_TITLE_RATIO


def _title_key(title: str) -> str:
    return " ".join(re.findall(r"\w+", title.casefold()))


def group_by_slide(parts: list[Part]) -> list[list[Part]]:
    """Consecutive parts gathered per slide title; untitled ones join the slide before
    (or, before the first title, the first slide)."""
    groups: list[list[Part]] = []
    titles: list[str] = []  # the readings of the current slide's title
    leading: list[Part] = []
    for part in parts:
        title = part.scene.title.strip()
        if title and not any(same_title(title, seen) for seen in titles):
            groups.append([*leading, part])
            leading = []
            titles = [title]
        elif groups:
            groups[-1].append(part)
            if title:
                titles.append(title)
        else:
            leading.append(part)
    if leading:
        groups.append(leading)  # no title anywhere: the caller writes by speech instead
    return groups


def slide_title(group: list[Part]) -> str:
    """The title as read: the reading most of the slide's scenes agree on (the first on a tie)."""
    readings = [part.scene.title.strip() for part in group if part.scene.title.strip()]
    counts = Counter(readings)
    return max(readings, key=lambda reading: (counts[reading], -readings.index(reading)))


def slide_article(group: list[Part], title: str, has_speech: bool) -> str:
    """The Markdown of one slide's article, without its heading (render_markdown adds it)."""
    summary = _summary(group, title)
    blocks: list[str] = [summary_line(summary)] if summary is not None else []
    items = _list_lines(group, title)
    numbered = reads_as_actions([line for _, lines in items for line in lines])
    number = 1
    for part, (_, new_lines) in zip(group, items, strict=True):
        scene = part.scene
        if scene.screenshot:
            name = PurePosixPath(scene.screenshot).name
            blocks.append(f"![{_alt_text(scene.title or title)}](screenshots/{name})")
        if new_lines:
            blocks.append(_markdown_list(new_lines, numbered, number))
            number += len(new_lines)
        # what only says the title again is left out: the heading already says it
        sentences = [
            s for s in part.sentences if s is not summary and not _restates_title(s, title)
        ]
        if sentences:
            blocks.extend(paragraphs(sentences))
        elif not has_speech:
            if not scene.title and scene.text.strip():
                lines = (" ".join(line.split()) for line in scene.text.splitlines())
                on_screen = " · ".join(literal_markdown(line) for line in lines if line)
                blocks.append(f"{video_reference(scene.start)} On screen: {on_screen}")
            else:
                blocks.append(
                    f"{video_reference(scene.start)} On screen from "
                    f"{format_timestamp(scene.start)} to {format_timestamp(scene.end)}."
                )
    if not any("[video:" in block for block in blocks):
        # every article links to its moment, even a slide shown while nothing was said
        blocks.append(
            f"{video_reference(group[0].scene.start)} On screen from "
            f"{format_timestamp(group[0].scene.start)} to {format_timestamp(group[-1].scene.end)}."
        )
    return "\n\n".join(blocks)


def _alt_text(title: str) -> str:
    """What the screenshot shows, for readers who cannot see it: the slide, by its title."""
    return literal_markdown(title)


def _restates_title(sentence: Sentence, title: str) -> bool:
    """A short sentence with no word the title does not have ("Then invite your team.")."""
    return sentence.word_count <= 8 and topic_words(sentence.text) <= topic_words(title)


def _summary(group: list[Part], title: str) -> Sentence | None:
    """The spoken sentence closest to the slide's title, else to its other lines; one that
    only says the title again ("Welcome to Acme Docs.") tells the reader nothing new, so
    another is taken when there is one."""
    said = [s for part in group for s in part.sentences]
    telling = [s for s in said if not _restates_title(s, title)]
    return summary_sentence(
        telling or said,
        topic_words(title),
        topic_words(" ".join(part.scene.text for part in group if part.scene.title)),
    )


def _list_lines(group: list[Part], title: str) -> list[tuple[Part, list[str]]]:
    """For each part, the slide lines it shows first (a build adds lines to the same slide;
    each line is listed once, with the first scene that shows it)."""
    seen: list[str] = []
    result: list[tuple[Part, list[str]]] = []
    for part in group:
        new: list[str] = []
        if part.scene.title:  # lines of scenes without a title are interface text, not steps
            for line in part.scene.text.splitlines():
                line = " ".join(line.split())
                if not line or same_title(line, title) or same_title(line, part.scene.title):
                    continue
                if any(_title_key(line) == _title_key(other) for other in seen):
                    continue
                seen.append(line)
                new.append(line)
        result.append((part, new))
    return result


def reads_as_actions(lines: list[str]) -> bool:
    """Whether most lines are instructions: they open with an imperative verb."""
    if not lines:
        return False
    actions = 0
    for line in lines:
        words = re.findall(r"[\w'-]+", _STEP_PREFIX.sub("", line).casefold())
        actions += bool(words) and words[0] in IMPERATIVE_VERBS
    return 2 * actions > len(lines)


def _markdown_list(lines: list[str], numbered: bool, start: int) -> str:
    if numbered:
        return "\n".join(
            f"{number}. {literal_markdown(line)}" for number, line in enumerate(lines, start=start)
        )
    return "\n".join(f"- {literal_markdown(line)}" for line in lines)


def literal_markdown(text: str) -> str:
    """On-screen text as literal Markdown: a bracket read off a slide never makes a link,
    nor a "#" a heading."""
    return _MARKDOWN_OPENING.sub(r"\1\\\2", _MARKDOWN_SPECIAL.sub(r"\\\1", text))
