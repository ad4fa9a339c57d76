"""People's corrections of the transcript: a segment's text, with the subtitles built from
the transcript following at once.

A corrected segment keeps the recogniser's timing wherever its words did not change, so a
fixed name shows at the moment it is said; the words that did change share the time of
the ones they replace.
"""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.deps import Actor
from reeldocs.core.errors import Invalid, NotFound
from reeldocs.core.text import printable
from reeldocs.docs import service as docs
from reeldocs.docs.editing_limits import MAX_SEGMENT_CHARACTERS
from reeldocs.docs.models import Article, Subtitle
from reeldocs.docs.subtitles import Cue, build_source_cues
from reeldocs.orgs.access import get_in_team
from reeldocs.providers.base import Segment, Word
from reeldocs.videos.models import Video, VideoSegment

NO_SUCH_SEGMENT = "This transcript segment does not exist, or it belongs to another team."
REPLACED = (
    "This segment was replaced a moment ago, when its video was processed again: reload "
    "the transcript and make your correction there."
)


def words_of(stored: Iterable[Mapping[str, Any]]) -> list[Word]:
    return [Word(w["text"], float(w["start"]), float(w["end"])) for w in stored]


def word_rows(words: Iterable[Word]) -> list[dict[str, Any]]:
    return [{"text": w.text, "start": w.start, "end": w.end} for w in words]


def cue_rows(cues: Iterable[Cue]) -> list[dict[str, Any]]:
    return [{"start": c.start, "end": c.end, "text": c.text} for c in cues]


class SegmentRow(Protocol):
    """A video_segments row, as the ORM or a plain query reads it."""

    start_time: float
    end_time: float
    spoken_content: str
    visual_context: str
    words: list[Any]


def as_segment(row: SegmentRow) -> Segment:
    return Segment(
        start_time=row.start_time,
        end_time=row.end_time,
        spoken_content=row.spoken_content,
        visual_context=row.visual_context,
        words=words_of(row.words),
    )


def _key(token: str) -> str:
    """What makes two words the same word for the timing: case and punctuation aside."""
    return token.strip(".,!?;:\"'()[]").casefold()


def _spread(tokens: Sequence[str], start: float, end: float) -> list[Word]:
    """Tokens sharing a stretch of time in proportion to their characters, the spaces
    between them included."""
    span = max(end - start, 0.0)
    total = sum(len(token) for token in tokens) + len(tokens) - 1
    words: list[Word] = []
    position = 0
    for token in tokens:
        first = start + span * position / total
        position += len(token)
        words.append(Word(token, first, start + span * position / total))
        position += 1
    return words


def retime_words(words: Sequence[Word], text: str, start: float, end: float) -> list[Word]:
    """Timed words for the corrected `text` of a segment whose recognised words were
    `words`: unchanged words keep their times, changed ones share the time of those they
    replace, and added ones the pause they were put into. No timed words in, none out
    (the subtitles then spread the text over the segment)."""
    tokens = text.split()
    if not words:
        return []
    matcher = difflib.SequenceMatcher(
        None, [_key(w.text) for w in words], [_key(t) for t in tokens], autojunk=False
    )
    timed: list[Word] = []
    for operation, i1, i2, j1, j2 in matcher.get_opcodes():
        if operation == "equal":
            timed.extend(
                Word(tokens[j1 + k], words[i1 + k].start, words[i1 + k].end) for k in range(i2 - i1)
            )
        elif operation == "replace":
            timed.extend(_spread(tokens[j1:j2], words[i1].start, words[i2 - 1].end))
        elif operation == "insert":
            after = words[i1 - 1].end if i1 > 0 else start
            before = words[i1].start if i1 < len(words) else end
            timed.extend(_spread(tokens[j1:j2], after, max(before, after)))
    return timed


def clean_spoken_content(text: str) -> str:
    cleaned = printable(text)
    if len(cleaned) > MAX_SEGMENT_CHARACTERS:
        raise Invalid(
            f"This text has {len(cleaned):,} characters; a transcript segment may have at most "
            f"{MAX_SEGMENT_CHARACTERS:,}. Correct the words of this segment only."
        )
    return cleaned


async def edit_segment(
    session: AsyncSession, actor: Actor, segment_id: uuid.UUID, text: str
) -> VideoSegment:
    """Correct what a segment says; the video's subtitles in the spoken language are built
    again from the transcript, and its translations become stale."""
    segment = await get_in_team(session, actor, VideoSegment, segment_id, "segment", write=True)
    # The video locked first: corrections of one video one at a time, so that each builds
    # the subtitles from the others' text; and publishing a new run waits for them.
    video = (
        await session.execute(
            sa.select(Video).where(Video.id == segment.video_id).with_for_update()
        )
    ).scalar_one_or_none()
    if video is None:
        raise NotFound(NO_SUCH_SEGMENT)
    await session.refresh(video)
    try:
        await session.refresh(segment, with_for_update=True)
    except InvalidRequestError:
        raise NotFound(REPLACED) from None
    if video.docs_run_id != segment.run_id:
        raise NotFound(NO_SUCH_SEGMENT)  # a segment of a run still in progress
    cleaned = clean_spoken_content(text)
    if cleaned == segment.spoken_content:
        return segment
    await session.execute(
        sa.update(VideoSegment)
        .where(VideoSegment.id == segment.id)
        .values(
            spoken_content=cleaned,
            words=word_rows(
                retime_words(words_of(segment.words), cleaned, segment.start_time, segment.end_time)
            ),
            edited=True,
        )
    )
    await session.flush()
    await session.refresh(segment)
    await rebuild_spoken_subtitles(session, video)
    await mark_translations_stale(session, video)
    return segment


async def rebuild_spoken_subtitles(session: AsyncSession, video: Video) -> None:
    """The subtitles in the spoken language, made again from the video's transcript."""
    if video.docs_run_id is None or video.source_language is None:
        return
    rows = await session.execute(
        sa.select(VideoSegment)
        .where(VideoSegment.run_id == video.docs_run_id)
        .order_by(VideoSegment.order)
    )
    cues = build_source_cues([as_segment(row) for row in rows.scalars()])
    await session.execute(
        sa.update(Subtitle)
        .where(Subtitle.run_id == video.docs_run_id, Subtitle.language == video.source_language)
        .values(cues=cue_rows(cues))
    )


async def mark_translations_stale(session: AsyncSession, video: Video) -> None:
    """Every translation of the video's docs was made from the transcript as it was."""
    primary = await docs.primary_language(session, video)
    if video.docs_run_id is None or primary is None:
        return
    await session.execute(
        sa.update(Article)
        .where(
            Article.run_id == video.docs_run_id,
            Article.status == "published",
            Article.language != primary,
        )
        .values(stale=True)
    )
