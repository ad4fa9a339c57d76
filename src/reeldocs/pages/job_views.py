"""How a job is shown: its steps (done, active, waiting, failed) and its failures in words."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from reeldocs.core.settings import Settings
from reeldocs.jobs.models import ACTIVE_STATUSES
from reeldocs.jobs.schemas import JobOut
from reeldocs.providers import registry
from reeldocs.providers.registry import LanguageOption, language_name

FIXED_STEP_LABELS = {
    "uploading": "Uploading video",
    "transcribing": "Extracting content",
    "generating_docs": "Generating documentation",
    "subtitles": "Subtitles",
    "complete": "Done",
}

STATUS_LABELS = {
    "pending": "Waiting",
    "processing": "Processing",
    "completed": "Completed",
    "failed": "Failed",
    "retried": "Retried",
    "cancelled": "Cancelled",
    "uploading": "Uploading",
    "uploaded": "Uploaded",
    "ready": "Ready",
}


@dataclass(frozen=True)
class StepView:
    key: str
    label: str
    state: str  # done, active, waiting, failed or stopped


@dataclass(frozen=True)
class LanguageFailure:
    code: str
    name: str
    detail: str


def step_keys(languages: list[str], kind: str = "process") -> list[str]:
    translations = [f"translating_{code}" for code in languages[1:]]
    if kind == "retranslate":
        # the docs are there: only their translations are made again
        return [*translations, "subtitles", "complete"]
    return ["uploading", "transcribing", "generating_docs", *translations, "subtitles", "complete"]


def step_label(key: str) -> str:
    if key.startswith("translating_"):
        return f"Translating to {language_name(key.removeprefix('translating_'))}"
    return FIXED_STEP_LABELS.get(key, key.replace("_", " ").capitalize())


def _failed_translation(job: JobOut, key: str) -> bool:
    if not key.startswith("translating_"):
        return False
    result = job.language_results.get(key.removeprefix("translating_"), {})
    return isinstance(result, dict) and result.get("status") == "failed"


def job_steps(job: JobOut) -> list[StepView]:
    """Each step of the job, marked from where the job really is."""
    keys = step_keys(job.languages, job.kind)
    if job.status == "completed":
        return [
            StepView(k, step_label(k), "failed" if _failed_translation(job, k) else "done")
            for k in keys
        ]
    where = job.failed_step if job.status == "failed" and job.failed_step else job.step
    current = keys.index(where) if where in keys else 0
    current_state = {
        "pending": "queued",  # no worker has taken it yet: nothing is in progress
        "failed": "failed",
        "cancelled": "stopped",
        "retried": "stopped",
    }.get(job.status, "active")
    steps: list[StepView] = []
    for index, key in enumerate(keys):
        if index < current:
            state = "failed" if _failed_translation(job, key) else "done"
        elif index == current:
            state = current_state
        else:
            state = "waiting"
        steps.append(StepView(key, step_label(key), state))
    return steps


def language_failures(job: JobOut) -> list[LanguageFailure]:
    failures: list[LanguageFailure] = []
    for code in job.languages:
        result = job.language_results.get(code)
        if isinstance(result, dict) and result.get("status") == "failed":
            detail = str(result.get("detail") or "The translation did not succeed.")
            failures.append(LanguageFailure(code, language_name(code), detail))
    return failures


def progress_announcement(job: JobOut) -> str:
    """What a screen reader is told about the job: its step and status, never its percent,
    so that the live region holding it speaks only when the step or the status changes."""
    if job.status == "completed":
        return "Completed: the docs are ready."
    if job.status == "failed":
        return f"Failed at the step {step_label(job.failed_step or job.step)}."
    if job.status == "cancelled":
        return "Cancelled."
    if job.status == "retried":
        return "Stopped: a new attempt took over."
    if job.status == "pending":
        return "Waiting for a worker to start."
    keys = step_keys(job.languages, job.kind)
    number = keys.index(job.step) + 1 if job.step in keys else 1
    return f"Step {number} of {len(keys)}: {step_label(job.step)}."


def is_active(job: JobOut) -> bool:
    return job.status in ACTIVE_STATUSES


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.capitalize())


def videos_fingerprint(pairs: Iterable[tuple[object, str]]) -> str:
    """A short digest of (video id, status) pairs: the card's way to notice a change."""
    digest = hashlib.sha256()
    for video_id, status in sorted((str(v), s) for v, s in pairs):
        digest.update(f"{video_id}:{status};".encode())
    return digest.hexdigest()[:16]


async def spoken_languages(settings: Settings) -> list[str]:
    # Building the providers probes the machine (about a second): off the event loop.
    return await run_in_threadpool(registry.spoken_languages, settings)


async def language_choices(settings: Settings) -> list[LanguageOption]:
    from reeldocs.providers.registry import language_options

    options = await run_in_threadpool(language_options, settings)
    # Only languages docs can be written or translated in: one that is only heard is
    # offered as the spoken language instead.
    usable = [option for option in options if option.primary or option.translate]
    return sorted(usable, key=lambda option: not option.primary)
