"""Hear one audio file with the offline recogniser in a process of its own, as a worker does.

huggingface_hub reads HF_ENDPOINT and HF_HUB_OFFLINE when it is imported, so a test
that points them somewhere runs the recogniser here, in a fresh process with that
environment: `python transcribe_once.py MODEL MODELS_DIR AUDIO` prints one JSON object
with the segments, the notices the job would have shown, and the error, if any.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).resolve().parents[2] / "src"


def transcribe_in_new_process(
    model: str, models_dir: Path, audio: Path, timeout: float = 180, **env: str
) -> dict[str, Any]:
    inherited = os.environ.get("PYTHONPATH")
    environment = {
        **os.environ,
        "PYTHONPATH": str(SOURCE) + (os.pathsep + inherited if inherited else ""),
        **env,
    }
    done = subprocess.run(
        [sys.executable, __file__, model, str(models_dir), str(audio)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(model: str, models_dir: str, audio: str) -> None:
    from reeldocs.providers.base import MediaContext, ProviderError
    from reeldocs.providers.offline.whisper import WhisperUnderstanding

    notices: list[str] = []
    result: dict[str, Any] = {"notices": notices, "segments": [], "error": None}
    media = MediaContext(
        video_path=Path("unused.mp4"),
        audio_path=Path(audio),
        duration=0.0,
        mime="video/mp4",
        scenes=[],
        source_language=None,
        notice=notices.append,
    )
    try:
        provider = WhisperUnderstanding(model, models_dir=Path(models_dir))
        segments = provider.understand(media)
        result["segments"] = [[s.start_time, s.end_time, s.spoken_content] for s in segments]
        result["folder"] = str(provider.model_folder(lambda message: None))
    except ProviderError as error:
        result["error"] = error.message
    print(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:4])
