"""`reeldocs jobs`: the processing jobs of every team, as the operator sees and steers them,
or, with `--server URL --token TOKEN`, those a server's user sees, through its API.

Locally, retry and cancel go through the same services as the API's routes, and so
through jobs.lifecycle, the one owner of a job's life; only the access check differs (the
operator may change any team's job).
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.cli.local import prepare, run_as_service
from reeldocs.cli.output import Commands, flag, moment, shortened, table
from reeldocs.cli.remote import Server, Token, ask, connect
from reeldocs.cli.server_api import ServerApi

if TYPE_CHECKING:
    from reeldocs.jobs.schemas import JobOut
    from reeldocs.projects.service import ProjectReference

app = Commands(help="Look at processing jobs, retry or cancel them.", no_args_is_help=True)

TITLE_WIDTH = 40
SERVER_LIST_LIMIT = 100  # the most a server lists of one project at once

JobId = Annotated[
    uuid.UUID, typer.Argument(metavar="ID", help="The job's id, as `jobs list` shows it.")
]
Json = Annotated[bool, flag("--json", "Print JSON (one object per line) instead of text.")]


def _percent(progress: float) -> str:
    return f"{round(progress * 100)}%"


@app.command("list")
def list_jobs(
    project: Annotated[
        str | None,
        typer.Option(
            metavar="SLUG_OR_ID",
            help="Only this project's jobs: ORG_SLUG/PROJECT_SLUG or the project's id.",
        ),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many jobs at most.")] = 20,
    as_json: Json = False,
    server: Server = None,
    token: Token = None,
) -> None:
    """List the newest jobs (those a retry took over aside), of one project or of all."""
    from reeldocs.jobs.service import list_recent_jobs_as_operator
    from reeldocs.projects.service import get_by_reference, parse_reference

    reference = None
    if project is not None:
        try:
            reference = parse_reference(project)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="'--project'") from None
    api = connect(server, token)
    if api is not None:
        jobs = ask(api, lambda api: _server_jobs(api, reference, limit))
    else:
        _, urls = prepare()

        async def work(session: AsyncSession) -> list[tuple[JobOut, str]]:
            project_id = None
            if reference is not None:
                project_id = (await get_by_reference(session, reference)).id
            return await list_recent_jobs_as_operator(session, project_id, limit)

        jobs = run_as_service(urls, work)
    if as_json:
        for job, project_ref in jobs:
            typer.echo(json.dumps({**job.model_dump(mode="json"), "project": project_ref}))
        return
    if not jobs:
        typer.echo("No jobs yet." if project is None else f"The project {project} has no jobs yet.")
        return
    rows = [
        [
            str(job.id),
            project_ref,
            shortened(job.video_title, TITLE_WIDTH),
            job.status,
            job.step,
            _percent(job.progress),
            moment(job.created_at),
        ]
        for job, project_ref in jobs
    ]
    headers = ["id", "project", "video", "status", "step", "progress", "created"]
    typer.echo(table(headers, rows))


async def _server_jobs(
    api: ServerApi, reference: ProjectReference | None, limit: int
) -> list[tuple[JobOut, str]]:
    """The newest jobs of one project, or of every project the token's user sees."""
    projects = (
        [await api.find_project(reference)] if reference is not None else await api.projects()
    )
    jobs = []
    for project in projects:
        asked = min(limit, SERVER_LIST_LIMIT)
        jobs += [(job, project.label) for job in await api.project_jobs(project, asked)]
    jobs.sort(key=lambda pair: pair[0].created_at, reverse=True)
    return jobs[:limit]


def _language_line(code: str, result: Any) -> str:
    if not isinstance(result, dict):
        return f"  {code}: {result}"
    detail = result.get("detail")
    return f"  {code}: {result.get('status', 'unknown')}" + (f" ({detail})" if detail else "")


@app.command("show")
def show(job_id: JobId, as_json: Json = False, server: Server = None, token: Token = None) -> None:
    """Show a job as the API does: its step, its languages' results, its error."""
    from reeldocs.jobs.service import get_job_as_operator

    api = connect(server, token)
    if api is not None:
        job = ask(api, lambda api: _job_of(api, job_id))
    else:
        _, urls = prepare()
        job = run_as_service(urls, lambda session: get_job_as_operator(session, job_id))
    if as_json:
        typer.echo(job.model_dump_json())
        return
    facts = [
        ("Job", str(job.id)),
        ("Video", f"{job.video_title} ({job.video_id})"),
        ("Project", str(job.project_id)),
        ("Status", f"{job.status} (attempt {job.attempt})"),
        ("Step", f"{job.step}: {job.step_message}" if job.step_message else job.step),
        ("Progress", _percent(job.progress)),
        ("Created", moment(job.created_at)),
        ("Started", moment(job.started_at, "not yet")),
        ("Finished", moment(job.completed_at, "not yet")),
    ]
    if job.retry_of is not None:
        facts.append(("Retry of", str(job.retry_of)))
    if job.error_message:
        at = f" (at step {job.failed_step})" if job.failed_step else ""
        facts.append(("Error", job.error_message + at))
    width = max(len(label) for label, _ in facts) + 1
    lines = [f"{(label + ':').ljust(width)} {value}" for label, value in facts]
    lines.append("Languages:")
    lines += [_language_line(code, job.language_results.get(code)) for code in job.languages]
    typer.echo("\n".join(lines))


async def _job_of(api: ServerApi, job_id: uuid.UUID) -> JobOut:
    job, _ = await api.job(job_id)
    assert job is not None  # asked without an ETag, the server answers in full
    return job


@app.command("retry")
def retry(job_id: JobId, server: Server = None, token: Token = None) -> None:
    """Start a failed or cancelled job again, from where it stopped, as a new job."""
    from reeldocs.jobs.queue import build_queue
    from reeldocs.jobs.service import retry_job_as_operator

    api = connect(server, token)
    if api is not None:
        new_id = ask(api, lambda api: api.retry(job_id))
        typer.echo(f"Job {job_id} is retried as job {new_id}, which waits for a worker.")
        return
    settings, urls = prepare()
    # Never opened: the new engine job is queued on the command's own transaction.
    queue = build_queue(urls.libpq, settings)

    async def work(session: AsyncSession) -> uuid.UUID:
        return (await retry_job_as_operator(session, queue, job_id)).id

    new_id = run_as_service(urls, work)
    typer.echo(f"Job {job_id} is retried as job {new_id}, which waits for a worker.")


@app.command("cancel")
def cancel(job_id: JobId, server: Server = None, token: Token = None) -> None:
    """Cancel a pending or processing job; its worker stops within a second."""
    from reeldocs.jobs.service import cancel_job_as_operator

    api = connect(server, token)
    if api is not None:
        status = ask(api, lambda api: api.cancel(job_id))
    else:
        _, urls = prepare()

        async def work(session: AsyncSession) -> str:
            return (await cancel_job_as_operator(session, job_id)).status

        status = run_as_service(urls, work)
    typer.echo(f"Job {job_id} is {status}.")
