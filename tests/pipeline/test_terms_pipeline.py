"""A real offline job (Apertium into Spanish) keeps a product name its slides show and the
terms of its project's glossary."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from support.api import bearer_client, create_project, process, upload_video, wait_for_job
from support.media_factory import make_slide_video

from reeldocs.media import ocr
from reeldocs.providers.offline.translate import ApertiumTranslator
from tests.conftest import WorkerProcesses

pytestmark = pytest.mark.skipif(
    not ocr.available() or "es" not in ApertiumTranslator().targets("en"),
    reason="needs Debian's tesseract-ocr and apertium-eng-spa (make test installs them)",
)

# Silent slides: the offline writer then tells what each one shows, so every slide's words
# reach the articles. "Acme Uploader" stands capitalised inside a sentence-case line.
SLIDES = ["Try Acme Uploader today", "Open the dashboard", "Pin it to the project board"]
GLOSSARY = [
    {"term": "dashboard", "translations": {"es": "tablero", "fr": "tableau de bord"}},
    {"term": "project board"},  # no translation: never translated
]


@pytest.fixture(scope="module")
def articles(
    tmp_path_factory: pytest.TempPathFactory,
    make_module_user: Any,
    module_worker: WorkerProcesses,
) -> Iterator[tuple[dict[str, Any], list[str], list[str]]]:
    path = tmp_path_factory.mktemp("terms-media") / "acme.mp4"
    make_slide_video(path, SLIDES, 4.0, size=(480, 270))
    api = bearer_client(make_module_user())
    project = create_project(api, "Acme docs with a glossary")
    saved = api.put(f"/api/projects/{project['id']}/glossary", json=GLOSSARY)
    assert saved.status_code == 200, saved.text
    video = upload_video(api, project["id"], path, "Acme Uploader tour")
    job = wait_for_job(api, process(api, video["id"], ["en", "es"]), timeout=180)

    def markdowns(language: str) -> list[str]:
        answer = api.get(f"/api/videos/{video['id']}/articles", params={"language": language})
        assert answer.status_code == 200, answer.text
        return [article["content_markdown"] for article in answer.json()]

    yield job, markdowns("en"), markdowns("es")
    api.close()


def test_spanish_articles_keep_the_product_name_and_the_glossary_terms(articles: Any) -> None:
    job, english, spanish = articles
    assert job["status"] == "completed", job
    assert job["language_results"]["es"] == {"status": "completed"}
    source, translated = "\n".join(english), "\n".join(spanish)
    for term in ("Acme Uploader", "dashboard", "project board"):
        assert term in source, (term, source)  # else this test would prove nothing

    assert translated.count("Acme Uploader") == source.count("Acme Uploader")
    assert translated.count("project board") == source.count("project board")
    assert translated.count("tablero") == source.count("dashboard")
    assert not re.search(r"Acmé|dashboard|junta|salpicadero", translated), translated
    assert re.search(r"\b(el|la|de|en)\b", translated)  # and the rest is Spanish

    # What Apertium makes of the same articles without the project's terms.
    plain = "\n".join(ApertiumTranslator().translate_documents(english, "en", "es"))
    assert "Acmé" in plain and "salpicadero" in plain and "project board" not in plain
