"""The pipeline's steps, in order. Each is idempotent and checkpointed per run.

A step's output is written in one transaction once it is whole (the scenes, the
segments, one language's articles, one language's subtitles), so a later attempt
finds it either complete, and skips it, or absent, and makes it; unique keys on
(run, order) and (run, language) make a duplicate impossible rather than unlikely.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from reeldocs.docs.models import Article, Chapter, Screenshot, Subtitle
from reeldocs.docs.references import find_video_references
from reeldocs.docs.subtitles import Cue, build_source_cues, translate_cues
from reeldocs.jobs import lifecycle
from reeldocs.media import ocr
from reeldocs.media.analysis import StillPictures, analyse_video
from reeldocs.media.audio import extract_audio
from reeldocs.media.errors import MediaError
from reeldocs.media.frames import grab_frames, screenshot_name
from reeldocs.media.scenes import DEFAULT_SETTINGS
from reeldocs.pipeline.context import RunContext
from reeldocs.pipeline.documents import ArticleDraft, article_title, render_markdown
from reeldocs.pipeline.terms import find_product_names, load_glossary, terminology
from reeldocs.providers.base import (
    Cancelled,
    MediaContext,
    ProviderError,
    Scene,
    Segment,
    Terminology,
    Translator,
    Word,
)
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


# ---- uploading: the sound track ----


async def prepare_media(ctx: RunContext) -> None:
    await ctx.reporter.update("uploading", "Preparing the video", _at("uploading", 0.0))
    audio = ctx.work_dir / "audio.wav"
    if audio.exists():
        return
    await ctx.run_blocking(
        extract_audio,
        ctx.video_path,
        audio,
        lambda done, total: ctx.reporter.from_thread(
            "uploading",
            "Extracting the sound track",
            _at("uploading", done / max(total, 1e-6)),
        ),
    )


# ---- transcribing: scenes and their screenshots, beside understanding → segments ----


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
            title=r.scene_title,
        )
        for r in rows
    ]


async def find_scenes(ctx: RunContext, abandon: threading.Event) -> list[Scene]:
    """Scenes, one screenshot each, their on-screen text and title, stored in one transaction.

    Runs beside speech recognition and so reports no progress of its own; `abandon`
    stops it when the recognition failed.
    """
    scenes = await load_scenes(ctx)
    if scenes:
        return scenes  # checkpoint: stored by an earlier attempt
    analysis = await ctx.run_blocking(
        analyse_video,
        ctx.video_path,
        ctx.work_dir / "screenshots",
        None,
        lambda: ctx.reporter.stop_event.is_set() or abandon.is_set(),
        _BESIDE_SPEECH_RECOGNITION,
    )
    analysis.stills.save(ctx.work_dir / _STILLS_FILE)
    shots = analysis.stills.shots
    keys = await ctx.run_blocking(_store_files, ctx, [shot.path for shot in shots])
    texts = await ctx.run_blocking(ocr.read_screen_texts, [shot.path for shot in shots])
    rows = [
        {
            "org_id": ctx.video.org_id,
            "video_id": ctx.video.id,
            "run_id": ctx.run_id,
            "name": shot.path.name,
            "time_seconds": scene.start,
            "storage_path": key,
            "scene_index": index,
            "scene_end": scene.end,
            "scene_text": text.text,
            "scene_title": text.title,
        }
        for index, (scene, shot, key, text) in enumerate(
            zip(analysis.scenes, shots, keys, texts, strict=True)
        )
    ]
    async with ctx.engine.begin() as conn:
        await conn.execute(sa.insert(Screenshot), rows)
    return await load_scenes(ctx)


# Speech recognition keeps both cores busy meanwhile: decoding on one thread costs less.
_BESIDE_SPEECH_RECOGNITION = replace(DEFAULT_SETTINGS, decoder_thread_type="NONE")

# Where the scene analysis noted which stretches of the video stand still, so that a
# moment the docs refer to can reuse a screenshot showing the same picture.
_STILLS_FILE = "still-pictures.json"


def _store_files(ctx: RunContext, paths: list[Path]) -> list[str]:
    """Put screenshot files into storage under this run; their storage keys, in order."""
    keys: list[str] = []
    for path in paths:
        ctx.reporter.check()
        key = ctx.key("screenshots", path.name)
        ctx.storage.backend.put_file(key, path)  # in a worker thread (run_blocking)
        keys.append(key)
    return keys


def _store_frames(ctx: RunContext, times: list[float]) -> dict[float, tuple[str, str]]:
    """Grab frames at `times`, store them; answer {time: (name, storage key)}."""
    out_dir = ctx.work_dir / "screenshots"
    out_dir.mkdir(parents=True, exist_ok=True)
    files = grab_frames(ctx.video_path, times, out_dir)
    keys = _store_files(ctx, list(files.values()))
    return {t: (path.name, key) for (t, path), key in zip(files.items(), keys, strict=True)}


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
    """Speech to segments while the scenes are found: the two use the cores side by side.

    The understanding provider waits for the scenes only when it needs them (to cut
    segments at scene changes), by which time the scene analysis has usually finished.
    """
    async with ctx.engine.connect() as conn:
        done = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(VideoSegment)
                .where(VideoSegment.run_id == ctx.run_id)
            )
        ).scalar_one()
    marker = ctx.work_dir / "transcribed"
    abandon = threading.Event()
    if done or marker.exists():
        ctx.scenes = await find_scenes(ctx, abandon)
        return
    await ctx.reporter.update("transcribing", "Extracting content", _at("transcribing", 0.0))
    scenes_task = asyncio.create_task(find_scenes(ctx, abandon))
    scenes: Future[list[Scene]] = Future()
    scenes_task.add_done_callback(lambda task: _settle(scenes, task))

    reached = [_at("transcribing", 0.0)]  # the progress reported last, for notices

    def progress(done: float, total: float) -> None:
        if scenes.done() and scenes.exception() is not None:
            raise scenes.exception()  # type: ignore[misc]  # no reason to go on hearing
        reached[0] = _at("transcribing", done / max(total, 1e-6))
        ctx.reporter.from_thread(
            "transcribing", f"Extracting content ({int(done)} of {int(total)} s)", reached[0]
        )

    def notice(message: str) -> None:
        ctx.reporter.from_thread("transcribing", message, reached[0])

    audio = ctx.work_dir / "audio.wav"
    media = MediaContext(
        video_path=ctx.video_path,
        audio_path=audio if audio.exists() else None,
        duration=ctx.video.duration,
        mime=ctx.video.mime,
        scenes=scenes,
        source_language=ctx.source_language,
        progress=progress,
        notice=notice,
    )
    try:
        segments = await ctx.run_blocking(ctx.providers.understanding.understand, media)
    except BaseException:
        abandon.set()
        await asyncio.wait([scenes_task])
        if not scenes_task.cancelled() and isinstance(scenes_task.exception(), MediaError):
            raise scenes_task.exception() from None  # type: ignore[misc]  # the root cause
        raise
    ctx.scenes = await scenes_task
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
        await lifecycle.record_source_language(conn, ctx.job_id, ctx.spoken)
    if not rows:
        marker.touch()  # nothing was said: the docs come from the scenes alone


def _settle(future: Future[list[Scene]], task: asyncio.Task[list[Scene]]) -> None:
    """Hand the scene task's outcome to the thread that may be waiting for it."""
    if task.cancelled():
        future.set_exception(Cancelled("Scene analysis was stopped."))
    elif task.exception() is not None:
        future.set_exception(task.exception())  # type: ignore[arg-type]
    else:
        future.set_result(task.result())


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
    stored = await ctx.run_blocking(_store_moment_files, ctx, wanted)
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


def _store_moment_files(ctx: RunContext, times: list[float]) -> dict[float, tuple[str, str]]:
    """Screenshots at `times`: a copy of a scene's shot where the picture has not changed
    since it was taken (as the scene analysis saw), else a frame grabbed from the video."""
    stills = StillPictures.load(ctx.work_dir / _STILLS_FILE)
    copies: dict[float, Path] = {}
    to_grab: list[float] = []
    for t in times:
        shot = stills.shot_showing(t) if stills is not None else None
        if shot is None or not shot.path.is_file():
            to_grab.append(t)
            continue
        copies[t] = shot.path.with_name(screenshot_name(t))
        if copies[t] != shot.path:
            shutil.copyfile(shot.path, copies[t])
    keys = _store_files(ctx, list(copies.values()))
    stored = {t: (path.name, key) for (t, path), key in zip(copies.items(), keys, strict=True)}
    if to_grab:
        stored.update(_store_frames(ctx, to_grab))
    return stored


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
    names = find_product_names(ctx.scenes, await load_segments(ctx))
    terms = terminology(language, names, await load_glossary(ctx.engine, ctx.video.project_id))
    markdowns = await ctx.run_blocking(
        translate_checked,
        translator,
        [draft.markdown for draft in source],
        ctx.primary,
        language,
        ctx.reporter.check,
        terms,
    )
    translated: list[ArticleDraft] = []
    for draft, markdown in zip(source, markdowns, strict=True):
        # The article's title is its first heading, translated with the rest.
        title = article_title(markdown) or draft.title
        translated.append(replace(draft, title=title, chapter_title=title, markdown=markdown))
    await _store_articles(ctx, language, translated)


def translate_checked(
    translator: Translator,
    markdowns: list[str],
    source: str,
    target: str,
    check_cancelled: Callable[[], None],
    terms: Terminology,
) -> list[str]:
    """All articles at once, then each checked; one that fails the check gets one more try
    on its own, and when that fails too, this language is given up."""
    results = translator.translate_documents(markdowns, source, target, terms=terms)
    for index, (markdown, result) in enumerate(zip(markdowns, results, strict=True)):
        problem = check_translation(markdown, result, terms)
        if problem is None:
            continue
        check_cancelled()
        results[index] = translator.translate_markdown(markdown, source, target, terms=terms)
        problem = check_translation(markdown, results[index], terms)
        if problem is not None:
            raise ProviderError(
                f"The translation into {language_name(target)} did not pass Reeldocs' "
                f"checks: {problem}"
            )
    return results


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
    names = find_product_names(ctx.scenes, segments)
    glossary = await load_glossary(ctx.engine, ctx.video.project_id)
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
                terms=terminology(language, names, glossary),
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
