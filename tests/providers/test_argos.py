"""Argos Translate packages run with CTranslate2, alone, beside Apertium, and in a real job.

The package is built by the test (tests/support/argos_package.py): a real sentencepiece
model and a real CTranslate2 Transformer whose hand-set weights turn English into ROT13
piece by piece, so every expected translation is known exactly.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.api import bearer_client, create_project, process, upload_video, wait_for_job
from support.argos_package import build_argos_package, rot13
from support.media_factory import make_slide_video

from reeldocs.core.db import DatabaseUrls
from reeldocs.core.settings import Settings
from reeldocs.docs.references import find_video_references
from reeldocs.docs.subtitles import parse_webvtt
from reeldocs.providers.base import ProviderError, Terminology
from reeldocs.providers.markdown_text import check_translation, split_markdown, translatable_runs
from reeldocs.providers.offline.argos import ArgosTranslator, default_packages_dir, split_sentences
from reeldocs.providers.offline.translate import ApertiumTranslator, OfflineTranslator
from reeldocs.providers.registry import build_providers
from tests.conftest import (
    LiveServer,
    WorkerProcesses,
    configured_server,
    sign_up,
    worker_group,
)

needs_apertium_spanish = pytest.mark.skipif(
    "es" not in ApertiumTranslator().targets("en"),
    reason="Debian's apertium and apertium-eng-spa are not installed (make test installs them)",
)

# Words from the package's training text only, so the tiny model knows every character.
ARTICLE = """# Open the Projects page

![Create a new project](screenshots/0005000.webp)

[video:00:05] Click new project and type a name for it. Then save it.
Drag your video file onto the **upload page** and press the `Upload` button.

- Invite your team by email [video:01:10]
- Export the articles as Markdown when they are ready.

```python
print("the code stays as written")
```
"""


@pytest.fixture(scope="module")
def packages_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    packages = tmp_path_factory.mktemp("argos-packages")
    build_argos_package(packages)
    return packages


@pytest.fixture(scope="module")
def argos(packages_dir: Path) -> ArgosTranslator:
    return ArgosTranslator(packages_dir)


def protected_pieces(markdown: str) -> list[tuple[str, str]]:
    return [
        (piece.kind, piece.text)
        for piece in split_markdown(markdown, protect_emphasis=True)
        if not piece.translatable
    ]


def test_an_installed_package_is_found_and_offers_its_target(argos: ArgosTranslator) -> None:
    assert argos.targets("en") == ["fr"]
    assert argos.targets("EN") == ["fr"]
    assert argos.targets("es") == []


def test_broken_package_folders_are_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    build_argos_package(tmp_path, "translate-en_fr-1_0")
    good = tmp_path / "translate-en_fr-1_0"
    (tmp_path / "no-metadata").mkdir()
    (tmp_path / "bad-json").mkdir()
    (tmp_path / "bad-json" / "metadata.json").write_text("{not json")
    (tmp_path / "no-codes").mkdir()
    (tmp_path / "no-codes" / "metadata.json").write_text(json.dumps({"from_code": "en"}))
    no_tokenizer = shutil.copytree(good, tmp_path / "no-tokenizer")
    (no_tokenizer / "sentencepiece.model").unlink()
    (no_tokenizer / "metadata.json").write_text(json.dumps({"from_code": "en", "to_code": "de"}))
    no_model = shutil.copytree(good, tmp_path / "no-model")
    shutil.rmtree(no_model / "model")
    (no_model / "metadata.json").write_text(json.dumps({"from_code": "en", "to_code": "it"}))
    (tmp_path / "translate-en_pt.argosmodel").write_bytes(b"PK\x03\x04 a zip archive")
    (tmp_path / "stray-file.txt").write_text("not a package")
    sentence_splitter = tmp_path / "sbd"
    sentence_splitter.mkdir()
    (sentence_splitter / "metadata.json").write_text(json.dumps({"type": "sbd"}))

    with caplog.at_level(logging.WARNING, logger="reeldocs.providers.offline.argos"):
        assert ArgosTranslator(tmp_path).targets("en") == ["fr"]

    warnings = "\n".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    for folder, reason in [
        ("no-metadata", "it has no metadata.json"),
        ("bad-json", "its metadata.json cannot be read"),
        ("no-codes", "its metadata.json names no from_code and to_code"),
        ("no-tokenizer", "it has no sentencepiece.model"),
        ("no-model", "it has no CTranslate2 model"),
    ]:
        assert f"{tmp_path / folder}: {reason}" in warnings
    assert "translate-en_pt.argosmodel is a packed Argos Translate package" in warnings
    assert "sbd" not in warnings and "stray-file" not in warnings
    assert len(caplog.records) == 6


def test_the_newest_package_for_a_pair_is_used(tmp_path: Path) -> None:
    old = build_argos_package(tmp_path, "translate-en_fr-0_9", version="0.9")
    (old / "model" / "model.bin").write_bytes(b"an older model that would not load")
    build_argos_package(tmp_path, "translate-en_fr-1_10", version="1.10")
    build_argos_package(tmp_path, "translate-en_fr-1_2", version="1.2")
    argos = ArgosTranslator(tmp_path)
    assert argos.packages[("en", "fr")].path.name == "translate-en_fr-1_10"
    assert argos.translate_lines(["Click save."], "en", "fr") == ["Pyvpx fnir."]


def test_markdown_structure_stays_byte_identical_and_the_text_is_translated(
    argos: ArgosTranslator,
) -> None:
    translated = argos.translate_markdown(ARTICLE, "en", "fr")

    assert protected_pieces(translated) == protected_pieces(ARTICLE)
    runs = translatable_runs(ARTICLE, protect_emphasis=True)
    assert translatable_runs(translated, protect_emphasis=True) == [rot13(run) for run in runs]
    assert translated.startswith("# Bcra gur Cebwrpgf cntr\n\n![Perngr n arj cebwrpg]")
    for kept in [
        "](screenshots/0005000.webp)\n",
        "[video:00:05] Pyvpx arj cebwrpg naq glcr n anzr sbe vg. Gura fnir vg.\n",
        "**hcybnq cntr**",
        "`Upload`",
        "[video:01:10]\n",
        '```python\nprint("the code stays as written")\n```\n',
    ]:
        assert kept in translated
    assert check_translation(ARTICLE, translated) is None


def test_subtitle_lines_come_back_one_for_one(argos: ArgosTranslator) -> None:
    lines = [
        "Click save.",
        "",
        "  Open   settings and invite your team  ",
        "Press the button to start the upload. You can close the page.",
    ]
    assert argos.translate_lines(lines, "en", "fr") == [
        "Pyvpx fnir.",
        "",
        "Bcra frggvatf naq vaivgr lbhe grnz",
        "Cerff gur ohggba gb fgneg gur hcybnq. Lbh pna pybfr gur cntr.",
    ]
    assert argos.translate_lines([], "en", "fr") == []


TERMS = Terminology(keep=frozenset({"Acme Uploader"}), forced={"dashboard": "tableau de bord"})


def test_names_labels_and_glossary_terms_come_out_untranslated(argos: ArgosTranslator) -> None:
    article = (
        "# Open Acme Uploader\n\n"
        'Click new project in Acme Uploader and open the dashboard, then press "Open Settings" '
        "or **Save**.\nWrite to team@acme.example [video:00:05].\n"
    )
    translated = argos.translate_markdown(article, "en", "fr", terms=TERMS)
    assert translated == (
        "# Bcra Acme Uploader\n\n"
        'Pyvpx arj cebwrpg va Acme Uploader naq bcra gur tableau de bord, gura cerff "Open '
        'Settings" be **Save**.\nJevgr gb team@acme.example [video:00:05].\n'
    )
    assert check_translation(article, translated, TERMS) is None
    # The same article without the terms: the name and the glossary's term are "translated".
    plain = argos.translate_markdown(article, "en", "fr")
    assert "Acme Uploader" not in plain and "Npzr" in plain and "qnfuobneq" in plain
    assert check_translation(article, plain, TERMS) is not None


def test_subtitle_lines_keep_names_labels_and_addresses(argos: ArgosTranslator) -> None:
    lines = [
        "Open Acme Uploader and click save.",
        'Open the dashboard, then press "Open Settings".',
        "Write to team@acme.example or see https://acme.example/help now.",
        "(Acme Uploader) and Acme Uploader's page",
    ]
    assert argos.translate_lines(lines, "en", "fr", terms=TERMS) == [
        "Bcra Acme Uploader naq pyvpx fnir.",
        'Bcra gur tableau de bord, gura cerff "Open Settings".',
        "Jevgr gb team@acme.example be frr https://acme.example/help abj.",
        "(Acme Uploader) naq Acme Uploader'f cntr",
    ]


def test_sentences_are_split_at_their_ends_only() -> None:
    assert split_sentences("Open settings. Invite your team!  Done? Yes") == [
        "Open settings.",
        "Invite your team!",
        "Done?",
        "Yes",
    ]
    assert split_sentences('Use a name, e.g. Acme. It costs 3.5 euros. then "Save." Next') == [
        "Use a name, e.g. Acme.",
        'It costs 3.5 euros. then "Save."',
        "Next",
    ]
    assert split_sentences("The answer is no. Then press save.") == [
        "The answer is no.",
        "Then press save.",
    ]
    assert split_sentences("   ") == []


def test_a_long_stretch_without_a_sentence_end_is_cut() -> None:
    words = [f"word{index}" for index in range(130)]
    words[44] += ","
    pieces = split_sentences(" ".join(words))
    assert [len(piece.split()) for piece in pieces] == [45, 60, 25]
    assert " ".join(pieces) == " ".join(words)


def test_a_model_that_fails_while_translating_raises_a_sentence(tmp_path: Path) -> None:
    build_argos_package(tmp_path, max_positions=8)  # shorter sentences than this one
    argos = ArgosTranslator(tmp_path)
    with pytest.raises(ProviderError, match="failed while translating") as failed:
        argos.translate_markdown("Open the Projects page and create a new project.", "en", "fr")
    assert "English → French" in failed.value.message
    assert "Reinstall the package with argospm" in failed.value.message
    assert not failed.value.transient


def test_a_model_that_cannot_be_loaded_raises_a_sentence(tmp_path: Path) -> None:
    package = build_argos_package(tmp_path)
    (package / "model" / "model.bin").write_bytes(b"damaged in the download")
    argos = ArgosTranslator(tmp_path)
    assert argos.targets("en") == ["fr"]  # found: only loading tells the model is broken
    with pytest.raises(ProviderError, match=r"could not be loaded \(.+\)\. Reinstall it"):
        argos.translate_lines(["Click save."], "en", "fr")


def test_a_loaded_model_is_kept_for_the_process(tmp_path: Path) -> None:
    package = build_argos_package(tmp_path)
    assert ArgosTranslator(tmp_path).translate_lines(["Click save."], "en", "fr") == ["Pyvpx fnir."]
    (package / "model" / "model.bin").write_bytes(b"replaced on disk after loading")
    # Another translator of the same process uses the model already in memory.
    assert ArgosTranslator(tmp_path).translate_lines(["Open settings."], "en", "fr") == [
        "Bcra frggvatf."
    ]


def test_an_unknown_pair_is_refused_with_what_is_available(argos: ArgosTranslator) -> None:
    with pytest.raises(ProviderError, match="No Argos Translate package for English → German"):
        argos.translate_lines(["Click save."], "en", "de")


def test_without_ctranslate2_no_target_is_offered(
    packages_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "ctranslate2", None)  # makes `import ctranslate2` fail
    with caplog.at_level(logging.WARNING, logger="reeldocs.providers.offline.argos"):
        assert ArgosTranslator(packages_dir).targets("en") == []
    assert "pip install 'reeldocs[argos]'" in caplog.text


def test_packages_are_looked_for_where_argospm_installs_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARGOS_PACKAGES_DIR", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_packages_dir(None) == tmp_path / ".local/share/argos-translate/packages"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_packages_dir(None) == tmp_path / "data/argos-translate/packages"
    monkeypatch.setenv("ARGOS_PACKAGES_DIR", str(tmp_path / "argos"))
    assert default_packages_dir(None) == tmp_path / "argos"
    assert default_packages_dir(str(tmp_path / "mine")) == tmp_path / "mine"


@needs_apertium_spanish
def test_argos_translates_its_languages_and_apertium_the_others(
    argos: ArgosTranslator, tmp_path: Path
) -> None:
    combined = OfflineTranslator([argos, ApertiumTranslator()])
    assert combined.name == "argos+apertium"
    assert {"fr", "es", "ca"} <= set(combined.targets("en"))
    assert combined.engine_for("en", "fr") == "argos"
    assert combined.engine_for("en", "es") == "apertium"
    assert combined.engine_for("en", "de") is None

    assert combined.translate_lines(["Click save."], "en", "fr") == ["Pyvpx fnir."]
    spanish = combined.translate_markdown(ARTICLE, "en", "es")
    assert protected_pieces(spanish) == protected_pieces(ARTICLE)
    assert "Pyvpx" not in spanish and check_translation(ARTICLE, spanish) is None
    with pytest.raises(ProviderError, match="No offline translator on this server can"):
        combined.translate_lines(["Click save."], "en", "de")

    # A package for a language Apertium also has takes that language over.
    spanish_package = build_argos_package(tmp_path, "translate-en_es")
    metadata = json.loads((spanish_package / "metadata.json").read_text())
    (spanish_package / "metadata.json").write_text(json.dumps({**metadata, "to_code": "es"}))
    both = OfflineTranslator([ArgosTranslator(tmp_path), ApertiumTranslator()])
    assert both.engine_for("en", "es") == "argos"
    assert both.translate_lines(["Click save."], "en", "es") == ["Pyvpx fnir."]


@needs_apertium_spanish
def test_the_offline_providers_offer_argos_languages_and_name_the_engines(
    settings: Settings, packages_dir: Path
) -> None:
    configured = dataclasses.replace(
        settings, provider="offline", argos_packages_dir=str(packages_dir)
    )
    providers = build_providers(configured)
    offered = {option.code: option for option in providers.options()}
    assert offered["fr"].translate and offered["es"].translate and offered["en"].primary
    names = providers.names()
    assert names["translating"] == "argos+apertium"
    assert names["translating_fr"] == "argos"
    assert names["translating_es"] == "apertium"
    # A job records the engines of its own languages only.
    assert providers.names(["en", "fr"]) == {
        "understanding": "whisper",
        "writing": "extractive",
        "translating": "argos+apertium",
        "translating_fr": "argos",
    }


def test_without_argos_packages_the_offline_providers_are_unchanged(
    settings: Settings, tmp_path: Path, packages_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = dataclasses.replace(settings, provider="offline", argos_packages_dir=str(tmp_path))
    providers = build_providers(empty)
    assert "fr" not in {option.code for option in providers.options()}
    assert not any(key.startswith("translating_") for key in providers.names())

    monkeypatch.setenv("PATH", str(tmp_path))  # no apertium command either
    assert [o.code for o in build_providers(empty).options()] == ["en"]
    assert build_providers(empty).translator is None
    only_argos = dataclasses.replace(empty, argos_packages_dir=str(packages_dir))
    providers = build_providers(only_argos)
    assert [(o.code, o.translate) for o in providers.options()] == [("en", False), ("fr", True)]
    assert providers.names()["translating"] == "argos"


# -- a real job, on a worker whose Argos packages folder holds the tiny package -------------

SECONDS_PER_SLIDE = 5.0
SLIDES = ["Welcome to Acme", "Create a project"]
SPEECH = ["welcome to the acme product tour", "click new project and type a name for it"]


@pytest.fixture(scope="module")
def argos_server(
    settings: Settings, db_urls: DatabaseUrls, packages_dir: Path
) -> Iterator[LiveServer]:
    with configured_server(
        settings, db_urls, provider="offline", argos_packages_dir=str(packages_dir)
    ) as server:
        yield server


@pytest.fixture(scope="module")
def argos_worker(db_urls: DatabaseUrls, packages_dir: Path) -> Iterator[WorkerProcesses]:
    with worker_group(
        db_urls,
        start=True,
        REELDOCS_PROVIDER="offline",
        REELDOCS_ARGOS_PACKAGES_DIR=str(packages_dir),
    ) as group:
        yield group


@pytest.fixture(scope="module")
def french_job(
    tmp_path_factory: pytest.TempPathFactory,
    argos_server: LiveServer,
    argos_worker: WorkerProcesses,
) -> Iterator[tuple[httpx.Client, dict[str, Any], dict[str, Any]]]:
    path = tmp_path_factory.mktemp("argos-media") / "acme.mp4"
    make_slide_video(path, SLIDES, SECONDS_PER_SLIDE, speech=SPEECH)
    with closing(sign_up(argos_server.url, "argos")) as session:
        api = bearer_client(session)
    project = create_project(api, "Acme docs in French")
    video = upload_video(api, project["id"], path, "Acme tour")
    job = wait_for_job(api, process(api, video["id"], ["en", "fr"]), timeout=180)
    yield api, video, job
    api.close()


def rot13_or_kept(source: str, translated: str) -> bool:
    """Each character ROT13-encoded, or kept as it was where the tiny tokenizer lacks it."""
    return len(source) == len(translated) and all(
        out in (char, rot13(char)) for char, out in zip(source, translated, strict=True)
    )


def test_a_job_translates_into_french_with_argos(french_job: Any) -> None:
    api, video, job = french_job
    assert job["status"] == "completed", job
    assert job["language_results"] == {"en": {"status": "completed"}, "fr": {"status": "completed"}}
    assert job["providers"]["translating_fr"] == "argos"
    assert job["providers"]["translating"].startswith("argos")

    def articles(language: str) -> list[dict[str, Any]]:
        answer = api.get(f"/api/videos/{video['id']}/articles", params={"language": language})
        assert answer.status_code == 200, answer.text
        return list(answer.json())

    english, french = articles("en"), articles("fr")
    assert english and len(french) == len(english)
    for en, fr in zip(english, french, strict=True):
        source, translated = en["content_markdown"], fr["content_markdown"]
        assert translated != source
        assert protected_pieces(translated) == protected_pieces(source)
        refs = [r.text for r in find_video_references(source)]
        assert refs and [r.text for r in find_video_references(translated)] == refs
        runs = translatable_runs(source, protect_emphasis=True)
        french_runs = translatable_runs(translated, protect_emphasis=True)
        assert len(french_runs) == len(runs)
        assert all(rot13_or_kept(a, b) for a, b in zip(runs, french_runs, strict=True))

    def cues(language: str) -> list[Any]:
        answer = api.get(f"/api/videos/{video['id']}/subtitles.vtt", params={"language": language})
        assert answer.status_code == 200, answer.text
        return parse_webvtt(answer.text)

    english_cues, french_cues = cues("en"), cues("fr")
    assert english_cues and len(french_cues) == len(english_cues)
    assert [(c.start, c.end) for c in french_cues] == [(c.start, c.end) for c in english_cues]
    assert [c.text for c in french_cues] != [c.text for c in english_cues]
    for en_cue, fr_cue in zip(english_cues, french_cues, strict=True):
        assert rot13_or_kept(" ".join(en_cue.text.split()), " ".join(fr_cue.text.split()))
