"""How a job's steps are marked from its real step, status and language results."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from reeldocs.jobs.schemas import JobOut
from reeldocs.pages.job_views import (
    job_steps,
    language_failures,
    progress_announcement,
    step_keys,
)


def _job(**changes: Any) -> JobOut:
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "project_id": uuid.uuid4(),
        "video_id": uuid.uuid4(),
        "video_title": "Tour",
        "status": "processing",
        "step": "uploading",
        "step_message": "",
        "progress": 0.0,
        "error_message": None,
        "failed_step": None,
        "languages": ["en", "es", "ca"],
        "language_results": {},
        "attempt": 1,
        "retry_of": None,
        "providers": {},
        "started_at": now,
        "completed_at": None,
        "created_at": now,
        "updated_at": now,
    }
    return JobOut(**(fields | changes))


def _states(job: JobOut) -> list[tuple[str, str]]:
    return [(step.label, step.state) for step in job_steps(job)]


def test_one_translation_step_per_language_after_the_first() -> None:
    assert step_keys(["en"]) == [
        "uploading",
        "transcribing",
        "generating_docs",
        "subtitles",
        "complete",
    ]
    assert step_keys(["en", "es", "ca"])[3:5] == ["translating_es", "translating_ca"]


def test_running_job_marks_done_active_and_waiting() -> None:
    job = _job(step="translating_ca", language_results={"es": {"status": "completed"}})
    assert _states(job) == [
        ("Uploading video", "done"),
        ("Extracting content", "done"),
        ("Generating documentation", "done"),
        ("Translating to Spanish", "done"),
        ("Translating to Catalan", "active"),
        ("Subtitles", "waiting"),
        ("Done", "waiting"),
    ]


def test_a_retranslation_job_has_only_its_own_steps() -> None:
    job = _job(kind="retranslate", languages=["en", "es"], step="translating_es")
    assert _states(job) == [
        ("Translating to Spanish", "active"),
        ("Subtitles", "waiting"),
        ("Done", "waiting"),
    ]
    assert progress_announcement(job) == "Step 1 of 3: Translating to Spanish."


def test_failed_job_marks_its_failed_step() -> None:
    job = _job(status="failed", step="generating_docs", failed_step="transcribing")
    assert [state for _, state in _states(job)][:3] == ["done", "failed", "waiting"]


def test_completed_job_with_a_failed_translation_says_which() -> None:
    job = _job(
        status="completed",
        step="complete",
        language_results={
            "en": {"status": "completed"},
            "es": {"status": "failed", "detail": "Apertium stopped."},
            "ca": {"status": "completed"},
        },
    )
    states = dict(_states(job))
    assert states["Translating to Spanish"] == "failed"
    assert states["Translating to Catalan"] == "done" and states["Done"] == "done"
    failures = language_failures(job)
    assert [(f.code, f.name, f.detail) for f in failures] == [
        ("es", "Spanish", "Apertium stopped.")
    ]


def test_cancelled_job_marks_where_it_stopped() -> None:
    job = _job(status="cancelled", step="transcribing")
    assert [state for _, state in _states(job)][:3] == ["done", "stopped", "waiting"]
