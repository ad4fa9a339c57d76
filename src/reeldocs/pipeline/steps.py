"""The pipeline's steps, in order. Each is idempotent and checkpointed per run.

A step's output is written in one transaction once it is whole (the scenes, the
segments, one language's articles, one language's subtitles), so a later attempt
finds it either complete, and skips it, or absent, and makes it; unique keys on
(run, order) and (run, language) make a duplicate impossible rather than unlikely.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from reeldocs.docs.models import Article, Chapter, Screenshot, Subtitle
from reeldocs.docs.references import find_video_references
from reeldocs.docs.subtitles import Cue, build_source_cues, translate_cues
from reeldocs.media import ocr
from reeldocs.media.audio import extract_audio
from reeldocs.media.frames import grab_frames, screenshot_name
from reeldocs.media.scenes import detect_scenes
from reeldocs.pipeline.context import RunContext
from reeldocs.pipeline.documents import ArticleDraft, article_title, render_markdown
from reeldocs.providers.base import MediaContext, ProviderError, Scene, Segment, Word
from reeldocs.providers.markdown_text import check_translation
from reeldocs.providers.registry import language_name
from reeldocs.videos.models import VideoSegment

_logger = logging.getLogger(__name__)

# Where each step's share of the progress bar starts and ends.
SPAN = {
    "uploading": (0.0, 0.1),
    "transcribing": (0.1, 0.55),
    "generating_docs": (0.55, 0.7),
    "translating": (0.7, 0.9),
    "subtitles": (0.9, 0.98),
}


def _at(step: str, fraction: float) -> float:
    start, end = SPAN[step]
    return start + (end - start) * min(max(fraction, 0.0), 1.0)


# ---- uploading: media analysis (audio, scenes, one screenshot per scene) ----


async def load_scenes(ctx: RunContext) -> list[Scene]:
    async with ctx.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(Screenshot)
                .where(Screenshot.run_id == ctx.run_id, Screenshot.scene_index.is_not(None))
                .order_by(Screenshot.scene_index)
            )
        ).all()
    return [
        Scene(
            start=r.time_seconds,
            end=r.scene_end or r.time_seconds,
            screenshot=r.name,
            text=r.scene_text,
        )
        for r in rows
    ]


async def prepare_media(ctx: RunContext) -> None:
    await ctx.reporter.update("uploading", "Preparing the video", _at("uploading", 0.0))
    audio = ctx.work_dir / "audio.wav"
    if not audio.exists():
        await ctx.run_blocking(
            extract_audio,
            ctx.video_path,
            audio,
            lambda done, total: ctx.reporter.from_thread(
                "uploading",
                "Extracting the sound track",
                _at("uploading", 0.3 * done / max(total, 1e-6)),
            ),
        )
    ctx.scenes = await load_scenes(ctx)
    if ctx.scenes:
        return  # checkpoint: scenes and their screenshots were stored by an earlier attempt
    await ctx.reporter.update("uploading", "Finding scene changes", _at("uploading", 0.3))
    scenes = await ctx.run_blocking(
        detect_scenes,
        ctx.video_path,
        lambda done, total: ctx.reporter.from_thread(
            "uploading",
            "Finding scene changes",
            _at("uploading", 0.3 + 0.5 * done / max(total, 1e-6)),
        ),
        lambda: ctx.reporter.stop_event.is_set(),
    )
    await ctx.reporter.update("uploading", "Taking screenshots", _at("uploading", 0.8))
    # A screenshot a moment into each scene, past any transition into it.
    times = [min(s.start + min(1.0, (s.end - s.start) / 3), s.end) for s in scenes]
    stored = await ctx.run_blocking(_store_frames, ctx, times)
    if ocr.available():
        await ctx.reporter.update("uploading", "Reading on-screen text", _at("uploading", 0.9))
    texts = await ctx.run_blocking(
        ocr.read_texts, [ctx.work_dir / "screenshots" / stored[t][0] for t in times]
    )
    rows = [
        {
            "org_id": ctx.video.org_id,
            "video_id": ctx.video.id,
            "run_id": ctx.run_id,
            "name": stored[t][0],
            "time_seconds": scene.start,
            "storage_path": stored[t][1],
            "scene_index": index,
            "scene_end": scene.end,
            "scene_text": text,
        }
        for index, (scene, t, text) in enumerate(zip(scenes, times, texts, strict=True))
    ]
    async with ctx.engine.begin() as conn:
        await conn.execute(sa.insert(Screenshot), rows)
    ctx.scenes = await load_scenes(ctx)


def _store_frames(ctx: RunContext, times: list[float]) -> dict[float, tuple[str, str]]:
    """Grab frames at `times`, store them; answer {time: (name, storage key)}."""
    out_dir = ctx.work_dir / "screenshots"
    out_dir.mkdir(parents=True, exist_ok=True)
    files = grab_frames(ctx.video_path, times, out_dir)
    stored: dict[float, tuple[str, str]] = {}
    for t, path in files.items():
        ctx.reporter.check()
        key = ctx.key("screenshots", path.name)
        ctx.storage.put_file(key, path)
        stored[t] = (path.name, key)
    return stored


# ---- transcribing: understanding → segments ----


async def load_segments(ctx: RunContext) -> list[Segment]:
    async with ctx.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(VideoSegment)
                .where(VideoSegment.run_id == ctx.run_id)
                .order_by(VideoSegment.order)
            )
        ).all()
    return [
        Segment(
            start_time=r.start_time,
            end_time=r.end_time,
            spoken_content=r.spoken_content,
            visual_context=r.visual_context,
            words=[Word(w["text"], w["start"], w["end"]) for w in r.words],
        )
        for r in rows
    ]


async def transcribe(ctx: RunContext) -> None:
    async with ctx.engine.connect() as conn:
        done = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(VideoSegment)
                .where(VideoSegment.run_id == ctx.run_id)
            )
        ).scalar_one()
    marker = ctx.work_dir / "transcribed"
    if done or marker.exists():
        return
    await ctx.reporter.update("transcribing", "Extracting content", _at("transcribing", 0.0))
    audio = ctx.work_dir / "audio.wav"

    def progress(done: float, total: float) -> None:
        ctx.reporter.from_thread(
            "transcribing",
            f"Extracting content ({int(done)} of {int(total)} s)",
            _at("transcribing", done / max(total, 1e-6)),
        )

    media = MediaContext(
        video_path=ctx.video_path,
        audio_path=audio if audio.exists() else None,
        duration=ctx.video.duration,
        mime=ctx.video.mime,
        scenes=ctx.scenes,
        source_language=ctx.source_language,
        progress=progress,
    )
    segments = await ctx.run_blocking(ctx.providers.understanding.understand, media)
    if ctx.source_language is None:
        ctx.source_language = media.source_language or "en"
    rows = [
        {
            "org_id": ctx.video.org_id,
            "video_id": ctx.video.id,
            "run_id": ctx.run_id,
            "order": index,
            "start_time": max(0.0, s.start_time),
            "end_time": max(s.start_time, s.end_time),
            "spoken_content": s.spoken_content,
            "visual_context": s.visual_context,
            "words": [asdict(w) for w in s.words],
        }
        for index, s in enumerate(segments)
    ]
    async with ctx.engine.begin() as conn:
        if rows:
            await conn.execute(sa.insert(VideoSegment), rows)
        # kept with the segments, so a resumed job knows the language it detected
        await conn.execute(
            sa.text("UPDATE processing_jobs SET source_language = :l WHERE id = :id"),
            {"l": ctx.spoken, "id": ctx.job_id},
        )
    if not rows:
        marker.touch()  # nothing was said: the docs come from the scenes alone


# ---- generating_docs and translating_<lang>: articles per language ----


async def languages_with_articles(ctx: RunContext) -> set[str]:
    async with ctx.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(Article.language).where(Article.run_id == ctx.run_id).distinct()
        )
        return {r[0] for r in rows}


async def _store_articles(ctx: RunContext, language: str, drafts: list[ArticleDraft]) -> None:
    """One language's chapters and articles, in one transaction."""
    async with ctx.engine.begin() as conn:
        for draft in drafts:
            chapter_id = (
                await conn.execute(
                    sa.insert(Chapter)
                    .values(
                        org_id=ctx.video.org_id,
                        video_id=ctx.video.id,
                        run_id=ctx.run_id,
                        language=language,
                        order=draft.order,
                        title=draft.chapter_title,
                        start_time=draft.start_time,
                    )
                    .returning(Chapter.id)
                )
            ).scalar_one()
            await conn.execute(
                sa.insert(Article).values(
                    org_id=ctx.video.org_id,
                    project_id=ctx.video.project_id,
                    video_id=ctx.video.id,
                    chapter_id=chapter_id,
                    run_id=ctx.run_id,
                    language=language,
                    order=draft.order,
                    title=draft.title,
                    slug=draft.slug,
                    content_markdown=draft.markdown,
                    status="draft",
                )
            )


async def load_articles(ctx: RunContext, language: str) -> list[ArticleDraft]:
    async with ctx.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(
                Article.order,
                Chapter.title.label("chapter_title"),
                Article.title,
                Article.slug,
                Chapter.start_time,
                Article.content_markdown,
            )
            .join(Chapter, Chapter.id == Article.chapter_id)
            .where(Article.run_id == ctx.run_id, Article.language == language)
            .order_by(Article.order)
        )
        return [ArticleDraft(*row) for row in rows]


async def generate_docs(ctx: RunContext) -> None:
    if ctx.primary in await languages_with_articles(ctx):
        return
    name = language_name(ctx.primary)
    await ctx.reporter.update(
        "generating_docs", f"Generating documentation in {name}", _at("generating_docs", 0.0)
    )
    segments = await load_segments(ctx)
    document = await ctx.run_blocking(
        ctx.providers.writer.write, segments, ctx.scenes, ctx.primary, ctx.spoken
    )
    drafts = render_markdown(document)
    await _store_moment_screenshots(ctx, drafts)
    await _store_articles(ctx, ctx.primary, drafts)
    await ctx.reporter.update(
        "generating_docs", f"Documentation written in {name}", _at("generating_docs", 1.0)
    )


async def _store_moment_screenshots(ctx: RunContext, drafts: list[ArticleDraft]) -> None:
    """One screenshot at each moment the docs refer to, beside the scenes' own."""
    times = sorted(
        {float(ref.seconds) for d in drafts for ref in find_video_references(d.markdown)}
    )
    times = [t for t in times if 0 <= t <= ctx.video.duration]
    async with ctx.engine.connect() as conn:
        have = set(
            (
                await conn.execute(
                    sa.select(Screenshot.name).where(Screenshot.run_id == ctx.run_id)
                )
            ).scalars()
        )
    wanted = [t for t in times if screenshot_name(t) not in have]
    if not wanted:
        return
    stored = await ctx.run_blocking(_store_frames, ctx, wanted)
    rows = [
        {
            "org_id": ctx.video.org_id,
            "video_id": ctx.video.id,
            "run_id": ctx.run_id,
            "name": name,
            "time_seconds": t,
            "storage_path": key,
        }
        for t, (name, key) in stored.items()
        if name not in have
    ]
    if rows:
        async with ctx.engine.begin() as conn:
            await conn.execute(pg_insert(Screenshot).on_conflict_do_nothing(), rows)


async def translate_language(ctx: RunContext, language: str, index: int, count: int) -> None:
    step = f"translating_{language}"
    name = language_name(language)
    progress = _at("translating", index / max(count, 1))
    await ctx.reporter.update(step, f"Translating to {name}", progress)
    translator = ctx.providers.translator
    if translator is None:
        raise ProviderError(
            f"No translator is configured, so Reeldocs cannot translate into {name}."
        )
    source = await load_articles(ctx, ctx.primary)
    translated: list[ArticleDraft] = []
    for draft in source:
        ctx.reporter.check()
        markdown = await ctx.run_blocking(
            _translate_checked, translator, draft.markdown, ctx.primary, language
        )
        # The article's title is its first heading, translated with the rest.
        title = article_title(markdown) or draft.title
        translated.append(replace(draft, title=title, chapter_title=title, markdown=markdown))
    await _store_articles(ctx, language, translated)


def _translate_checked(translator: Any, markdown: str, source: str, target: str) -> str:
    """Translate and check; one more try when the check fails, then give up on this language."""
    problem = ""
    for _ in range(2):
        result: str = translator.translate_markdown(markdown, source, target)
        found = check_translation(markdown, result)
        if found is None:
            return result
        problem = found
    raise ProviderError(
        f"The translation into {language_name(target)} did not pass Reeldocs' checks: {problem}"
    )


# ---- subtitles: cues per language ----


async def languages_with_subtitles(ctx: RunContext) -> set[str]:
    async with ctx.engine.connect() as conn:
        rows = await conn.execute(sa.select(Subtitle.language).where(Subtitle.run_id == ctx.run_id))
        return {r[0] for r in rows}


def cues_to_json(cues: list[Cue]) -> list[dict[str, Any]]:
    return [{"start": c.start, "end": c.end, "text": c.text} for c in cues]


async def make_subtitles(ctx: RunContext, languages: list[str]) -> None:
    have = await languages_with_subtitles(ctx)
    missing = [code for code in languages if code not in have]
    if not missing:
        return
    await ctx.reporter.update("subtitles", "Writing subtitles", _at("subtitles", 0.0))
    segments = await load_segments(ctx)
    source_cues = build_source_cues(segments)
    for position, language in enumerate(missing):
        if language == ctx.spoken or not source_cues:
            cues = source_cues
        else:
            translator = ctx.providers.translator
            if translator is None:
                continue
            texts = await ctx.run_blocking(
                translator.translate_lines,
                [re.sub(r"\s*\n\s*", " ", c.text) for c in source_cues],
                ctx.spoken,
                language,
            )
            cues = translate_cues(source_cues, texts)
        async with ctx.engine.begin() as conn:
            await conn.execute(
                pg_insert(Subtitle)
                .values(
                    org_id=ctx.video.org_id,
                    video_id=ctx.video.id,
                    run_id=ctx.run_id,
                    language=language,
                    cues=cues_to_json(cues),
                )
                .on_conflict_do_nothing()
            )
        await ctx.reporter.update(
            "subtitles",
            f"Subtitles written in {language_name(language)}",
            _at("subtitles", (position + 1) / len(missing)),
        )
