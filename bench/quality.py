"""What the offline pipeline made of the product tour, read back from the database.

The benchmark's 60 s 720p video is the product tour (tests/support/media_factory.py):
six titled slides with bullet lines, two of them light on dark, each with a sentence
or two read by festival's voice. After a job completes, this compares what it stored
with what the video shows and says:

- words: the transcript against the sentences read (word error rate);
- chapters: how many slide titles became a chapter title exactly, and whether any
  chapter is titled with something that is on no slide;
- bullets: how many slide bullet lines appear word for word in the article of their
  slide's chapter;
- subtitles: reading speed per language (characters per second, spaces included)
  and the layout limits (at most 2 lines of 42 characters, 1–7 s, no overlap).
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

import psycopg

from bench.common import ROOT

sys.path.insert(0, str(ROOT / "tests"))


def _word_error_rate(reference: str, hypothesis: str) -> float:
    from support import read_speech

    ref, hyp = read_speech.words(reference), read_speech.words(hypothesis)
    return round(read_speech.word_errors(ref, hyp) / max(len(ref), 1), 3)


def _subtitle_figures(cues: list[dict[str, Any]]) -> dict[str, Any]:
    from reeldocs.docs.subtitles import Cue, reading_speed

    track = [Cue(float(c["start"]), float(c["end"]), str(c["text"])) for c in cues]
    speed = reading_speed(track)
    lines = [line for cue in track for line in cue.text.split("\n")]
    return {
        "cues": speed.cues,
        "max_cps": round(speed.max_cps, 1),
        "mean_cps": round(speed.mean_cps, 1),
        "p95_cps": round(speed.p95_cps, 1),
        "share_over_17_cps": round(speed.share_over_17, 3),
        "share_over_20_cps": round(speed.share_over_20, 3),
        "max_lines": max((len(cue.text.split("\n")) for cue in track), default=0),
        "max_line_chars": max((len(line) for line in lines), default=0),
        "shortest_s": round(min((c.end - c.start for c in track), default=0.0), 2),
        "longest_s": round(max((c.end - c.start for c in track), default=0.0), 2),
        "overlaps": sum(1 for a, b in zip(track, track[1:], strict=False) if b.start < a.end),
    }


def measure(libpq: str, video_id: uuid.UUID, slides: Any) -> dict[str, Any]:
    """Quality figures of the completed job's docs for `video_id`, made from `slides`
    (the TitledSlide tuple the video was made of)."""
    with psycopg.connect(libpq) as conn:
        run_id = conn.execute("SELECT docs_run_id FROM videos WHERE id = %s", (video_id,))
        run = run_id.fetchone()
        if run is None or run[0] is None:
            return {"skipped": "the job made no docs"}
        segments = conn.execute(
            'SELECT spoken_content FROM video_segments WHERE run_id = %s ORDER BY "order"',
            (run[0],),
        ).fetchall()
        articles = conn.execute(
            "SELECT language, title, content_markdown FROM articles "
            'WHERE run_id = %s ORDER BY "order"',
            (run[0],),
        ).fetchall()
        subtitles = conn.execute(
            "SELECT language, cues FROM subtitles WHERE run_id = %s", (run[0],)
        ).fetchall()
    english = [(title, markdown) for language, title, markdown in articles if language == "en"]
    titles = [slide.title for slide in slides]
    chapter_titles = [title for title, _ in english]
    bullets_total = sum(len(slide.bullets) for slide in slides)
    bullets_kept = 0
    for slide in slides:
        article = next((md for title, md in english if title == slide.title), "")
        bullets_kept += sum(1 for bullet in slide.bullets if bullet in article)
    said = " ".join(slide.speech for slide in slides)
    heard = " ".join(row[0] for row in segments)
    return {
        "word_error_rate": _word_error_rate(said, heard),
        "slides": len(titles),
        "chapters": len(chapter_titles),
        "titles_found": sum(1 for title in titles if title in chapter_titles),
        "chapter_titles_not_on_a_slide": [t for t in chapter_titles if t not in titles],
        "bullets": bullets_total,
        "bullets_kept": bullets_kept,
        "subtitles": {language: _subtitle_figures(cues) for language, cues in subtitles},
    }
