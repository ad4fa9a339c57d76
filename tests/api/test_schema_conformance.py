"""The OpenAPI document against the running app: every operation is called with data
generated from the document (valid and invalid), signed in with an API token, and each
answer must be no server error and exactly what the document says it may be: its status,
its content type and its body.

Nothing is left out. The video upload is fuzzed like the rest: the generated files are a
few bytes, refused as no video at once, so streaming costs nothing. Without a worker no
job ever finishes, so the answers of processed videos (articles, subtitles, exports)
are met as "not found" only; tests/pages and tests/docs read them on processed videos."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from reeldocs.app import create_app
from reeldocs.core.settings import load_settings
from tests.support.api import bearer_client, create_project, upload_video
from tests.support.media_factory import make_slide_video

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Some 40 operations, each with at most this many cases (plus the ones Hypothesis shrinks a
# failure to): well under two minutes on two cores.
EXAMPLES_PER_OPERATION = 25


def _operations() -> list[tuple[str, str]]:
    # Collected before any server runs: the same app's document, built in this process.
    document = create_app(load_settings()).openapi()
    return [(method.upper(), path) for path, ops in document["paths"].items() for method in ops]


@pytest.fixture(scope="module")
def signed_in(make_module_user: Callable[..., httpx.Client]) -> Iterator[httpx.Client]:
    with bearer_client(make_module_user("schema")) as client:
        yield client


@pytest.fixture(scope="module")
def real_ids(signed_in: httpx.Client, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Ids of things the caller has, so that operations get past "not found" too: a
    project with a glossary, a video in it and a job for the video (left pending: no
    worker runs), the caller's team and the caller."""
    project = create_project(signed_in, "Schema checks")
    glossary = [{"term": "Reeldocs", "translations": {"es": "Reeldocs"}}]
    assert signed_in.put(f"/api/projects/{project['id']}/glossary", json=glossary).is_success
    clip = make_slide_video(tmp_path_factory.mktemp("schema") / "clip.mp4", ["One", "Two"], 0.5)
    video = upload_video(signed_in, project["id"], clip)
    job = signed_in.post("/api/videos/process", json={"video_id": video["id"], "languages": ["en"]})
    assert job.status_code == 202, job.text
    session = signed_in.get("/api/auth/session").json()
    return {
        "project_id": project["id"],
        "org_id": project["org_id"],
        "video_id": video["id"],
        "job_id": job.json()["job_id"],
        "user_id": session["user_id"],
    }


@pytest.fixture(scope="module")
def api_schema(base_url: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{base_url}/openapi.json")


def _cases(operation: Any, method: str, path: str, real_ids: dict[str, str]) -> Any:
    generated = [operation.as_strategy(mode) for mode in GenerationMode]
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    # Deleting the shared project, video or job would leave the operations after it with
    # nothing but "not found": DELETE gets made-up ids only.
    if names and method != "DELETE" and all(name in real_ids for name in names):
        known = {name: real_ids[name] for name in names}
        generated.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known))
    return st.one_of(*generated)


@pytest.mark.parametrize(("method", "path"), _operations())
def test_every_answer_is_the_documented_one(
    method: str,
    path: str,
    api_schema: schemathesis.BaseSchema,
    base_url: str,
    signed_in: httpx.Client,
    real_ids: dict[str, str],
) -> None:
    operation = api_schema[path][method]
    authorization = {"Authorization": signed_in.headers["Authorization"]}

    @given(case=_cases(operation, method, path, real_ids))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=base_url, headers=authorization, checks=CHECKS, timeout=30)

    answers_as_documented()
