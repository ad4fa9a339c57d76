"""Audio files of known speech for recogniser tests: phrases with silence around them."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from support.media_factory import SPEECH_RATE, speak

SAMPLE_RATE = 16000


@dataclass
class SpokenAudio:
    path: Path
    duration: float
    phrase_spans: list[tuple[float, float]]  # where each phrase is spoken, in seconds


def to_16k(samples: np.ndarray, rate: int = SPEECH_RATE) -> np.ndarray:
    """int16 mono samples resampled to 16 kHz with PyAV."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    converted = [*resampler.resample(frame), *resampler.resample(None)]
    return np.concatenate([piece.to_ndarray().reshape(-1) for piece in converted])


def write_wav(path: Path, samples: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.astype("<i2").tobytes())
    return path


def spoken_phrases(phrases: list[str], path: Path, gap_seconds: float = 1.5) -> SpokenAudio:
    """The phrases spoken by espeak-ng at 16 kHz, with silence before, between and after."""
    silence = np.zeros(int(gap_seconds * SAMPLE_RATE), dtype=np.int16)
    pieces = [silence]
    spans = []
    cursor = len(silence)
    for phrase in phrases:
        samples = to_16k(speak(phrase))
        spans.append((cursor / SAMPLE_RATE, (cursor + len(samples)) / SAMPLE_RATE))
        pieces += [samples, silence]
        cursor += len(samples) + len(silence)
    return SpokenAudio(write_wav(path, np.concatenate(pieces)), cursor / SAMPLE_RATE, spans)
