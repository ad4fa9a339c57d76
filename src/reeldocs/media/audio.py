"""The soundtrack as 16 kHz mono 16-bit WAV, the format speech recognisers expect.

Decoding streams packet by packet into the WAV file, so memory stays flat however long
the video is. Sample n of the WAV is at video time n / 16000: holes in the soundtrack
(recorders drop audio when busy) become silence so later words keep their timestamps.
"""

from __future__ import annotations

import os
import wave
from pathlib import Path

import av
import numpy as np
from av.audio.stream import AudioStream

from reeldocs.media.progress import MediaProgress, ProgressCallback
from reeldocs.media.reading import open_media, timeline_origin

SPEECH_SAMPLE_RATE = 16000
# Timestamps jitter by a frame or so; only a real hole in the sound is filled with silence.
_LARGEST_IGNORED_GAP_SECONDS = 0.1


def extract_audio(
    video_path: Path, out_wav_path: Path, on_progress: ProgressCallback | None = None
) -> float:
    """Write the first audio stream as a 16 kHz mono s16 WAV and return its length in seconds.

    A video without sound gives 0.0 and writes no file (and removes a stale one), so the
    caller can pass `audio_path=None` on. The WAV appears at `out_wav_path` only once
    complete, so a retried step never reads half a file. `on_progress(done, total)` gets
    seconds of video now and then; an exception it raises (such as `Cancelled`) stops the
    extraction, leaves no file behind and propagates.
    """
    out_wav_path = Path(out_wav_path)
    with open_media(video_path) as container:
        if not container.streams.audio:
            out_wav_path.unlink(missing_ok=True)
            return 0.0
        stream = container.streams.audio[0]
        total = _duration_hint(container, stream)
        partial_path = out_wav_path.with_name(out_wav_path.name + ".partial")
        try:
            with wave.open(str(partial_path), "wb") as wav:
                wav.setnchannels(1)
                wav.setsampwidth(2)
                wav.setframerate(SPEECH_SAMPLE_RATE)
                writer = _TimelineWavWriter(wav)
                _decode_into(container, stream, writer, MediaProgress(on_progress, total))
                samples_written = writer.samples_written
            os.replace(partial_path, out_wav_path)
        finally:
            partial_path.unlink(missing_ok=True)
    return samples_written / SPEECH_SAMPLE_RATE


def _duration_hint(container: av.container.InputContainer, stream: AudioStream) -> float:
    if container.duration is not None:
        return container.duration / av.time_base
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return 0.0


def _decode_into(
    container: av.container.InputContainer,
    stream: AudioStream,
    writer: _TimelineWavWriter,
    progress: MediaProgress,
) -> None:
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SPEECH_SAMPLE_RATE)
    origin = timeline_origin(container)
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.FFmpegError:
            continue  # a damaged packet becomes a hole, filled with silence below
        for frame in frames:
            if not isinstance(frame, av.AudioFrame):
                continue
            if frame.time is not None:
                writer.align_to(frame.time - origin)
            for converted in resampler.resample(frame):
                writer.write(converted)
        progress.reached(writer.seconds_written)
    for converted in resampler.resample(None):
        writer.write(converted)
    progress.finished()


class _TimelineWavWriter:
    """Appends PCM to a WAV while keeping sample n at video time n / rate."""

    def __init__(self, wav: wave.Wave_write) -> None:
        self.wav = wav
        self.samples_written = 0
        self._samples_to_drop = 0

    @property
    def seconds_written(self) -> float:
        return self.samples_written / SPEECH_SAMPLE_RATE

    def align_to(self, seconds: float) -> None:
        """The next decoded samples belong at `seconds`: pad a hole, or drop sound before 0."""
        position = round(seconds * SPEECH_SAMPLE_RATE)
        if self.samples_written == 0 and position < 0:
            self._samples_to_drop = -position
            return
        gap = position - self.samples_written
        if gap > _LARGEST_IGNORED_GAP_SECONDS * SPEECH_SAMPLE_RATE:
            self._write_samples(np.zeros(gap, dtype="<i2"))

    def write(self, frame: av.AudioFrame) -> None:
        samples = frame.to_ndarray().reshape(-1).astype("<i2", copy=False)
        if self._samples_to_drop:
            dropped = min(self._samples_to_drop, len(samples))
            samples = samples[dropped:]
            self._samples_to_drop -= dropped
        self._write_samples(samples)

    def _write_samples(self, samples: np.ndarray) -> None:
        if len(samples):
            self.wav.writeframesraw(samples.tobytes())
            self.samples_written += len(samples)
