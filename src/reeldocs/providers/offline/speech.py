"""Offline speech recognition with pocketsphinx, and turning timed words into segments.

Pocketsphinx's own voice-activity `Segmenter` finds the speech regions, which are
decoded one by one (with word times) by two worker processes so both cores work.
The processes stay loaded between jobs (`DecoderPool`). A region is at most ~15 s
long, so one unit of work is a couple of seconds of CPU and a cancelled job stops
as soon as its processes are terminated.

The word-to-segment grouping below is shared with the Whisper engine.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from reeldocs.providers.base import MediaContext, ProviderError, Scene, Segment, Word

SAMPLE_RATE = 16000
PAUSE_SECONDS = 0.7
MAX_SEGMENT_SECONDS = 15.0
MAX_SEGMENT_WORDS = 40
MAX_REGION_SECONDS = 15.0
HEARTBEAT_SECONDS = 0.5  # how often progress (and so cancellation) is checked while waiting

_ALTERNATE_PRONUNCIATION = re.compile(r"\(\d+\)$")
_PRONOUN_I = re.compile(r"\bi\b")
_ENGLISH_CODES = {"", "auto", "en"}


# -- timed words to segments -----------------------------------------------------------------


def format_timestamp(seconds: float) -> str:
    """M:SS, or H:MM:SS past an hour, as people read video times."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def tidy_sentence(text: str) -> str:
    """Capitalised first letter and closing punctuation, nothing else changed."""
    text = " ".join(text.split())
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else text + "."


def describe_scene(scenes: Sequence[Scene], start: float, end: float) -> str:
    """Which scene a stretch of time falls in (the one it overlaps most), with its text."""
    if not scenes:
        return ""
    overlaps = [min(end, scene.end) - max(start, scene.start) for scene in scenes]
    index = max(range(len(scenes)), key=lambda i: (overlaps[i], -i))
    if overlaps[index] <= 0:
        middle = (start + end) / 2
        index = min(range(len(scenes)), key=lambda i: abs(scenes[i].start - middle))
    scene = scenes[index]
    label = (
        f"Scene {index + 1} of {len(scenes)} "
        f"({format_timestamp(scene.start)}–{format_timestamp(scene.end)})"
    )
    on_screen = " ".join(scene.text.split())
    if len(on_screen) > 200:
        on_screen = on_screen[:199].rstrip() + "…"
    return f"{label}: {on_screen}" if on_screen else label


def segment_spans(
    words: Sequence[Word],
    scenes: Sequence[Scene],
    *,
    pause: float = PAUSE_SECONDS,
    max_seconds: float = MAX_SEGMENT_SECONDS,
    max_words: int = MAX_SEGMENT_WORDS,
) -> list[tuple[int, int]]:
    """Index ranges [first, last) of time-ordered words that make one segment each.

    A segment ends at a pause, at a scene cut (so a segment never straddles two
    screens) and before it grows past `max_seconds` or `max_words`.
    """
    cut_times = sorted(scene.start for scene in scenes if scene.start > 0)
    spans: list[tuple[int, int]] = []
    first = 0
    for index in range(1, len(words) + 1):
        if index < len(words):
            previous, word = words[index - 1], words[index]
            crosses_cut = bisect.bisect_right(cut_times, previous.start) != bisect.bisect_right(
                cut_times, word.start
            )
            too_long = word.end - words[first].start > max_seconds
            if not (
                word.start - previous.end >= pause
                or crosses_cut
                or too_long
                or index - first >= max_words
            ):
                continue
        spans.append((first, index))
        first = index
    return spans


def build_segments(
    words: Sequence[Word],
    scenes: Sequence[Scene],
    render_text: Callable[[int, int], str],
) -> list[Segment]:
    """Segments from time-ordered words; `render_text(first, last)` writes a span's text."""
    segments: list[Segment] = []
    for first, last in segment_spans(words, scenes):
        span = list(words[first:last])
        start, end = span[0].start, max(word.end for word in span)
        text = tidy_sentence(render_text(first, last))
        if not text:
            continue
        segments.append(
            Segment(
                start_time=start,
                end_time=end,
                spoken_content=text,
                visual_context=describe_scene(scenes, start, end),
                words=span,
            )
        )
    return segments


# -- reading audio ---------------------------------------------------------------------------


def _is_pcm16k_mono_wav(path: Path) -> bool:
    try:
        with wave.open(str(path), "rb") as wav:
            return (
                wav.getframerate() == SAMPLE_RATE
                and wav.getnchannels() == 1
                and wav.getsampwidth() == 2
                and wav.getcomptype() == "NONE"
            )
    except (wave.Error, EOFError):
        return False


def _convert_to_pcm16k_wav(source: Path, target: Path) -> Path | None:
    """Any audio PyAV can read as 16 kHz mono PCM WAV; None when the file has no audio."""
    import av  # only needed when the audio was not already extracted in the right format

    try:
        with av.open(str(source)) as container:
            if not container.streams.audio:
                return None
            with wave.open(str(target), "wb") as wav:
                wav.setnchannels(1)
                wav.setsampwidth(2)
                wav.setframerate(SAMPLE_RATE)
                resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
                for frame in container.decode(audio=0):
                    for converted in resampler.resample(frame):
                        wav.writeframes(converted.to_ndarray().tobytes())
                for converted in resampler.resample(None):
                    wav.writeframes(converted.to_ndarray().tobytes())
    except av.FFmpegError as error:
        raise ProviderError(
            f"The audio track of this video could not be read ({error}); "
            "check that the file plays, or upload it again."
        ) from error
    return target


class _WavFrames:
    """File-like view of a WAV's sample bytes, which is what the Segmenter reads."""

    def __init__(self, wav: wave.Wave_read) -> None:
        self._wav = wav

    def read(self, size: int) -> bytes:
        return self._wav.readframes(size // 2)


@dataclass(frozen=True)
class SpeechRegion:
    first_sample: int
    end_sample: int

    @property
    def start(self) -> float:
        return self.first_sample / SAMPLE_RATE

    @property
    def seconds(self) -> float:
        return (self.end_sample - self.first_sample) / SAMPLE_RATE


def _quiet_cut_points(samples: np.ndarray, max_samples: int) -> list[int]:
    """Where to cut an over-long region: the quietest 30 ms in the second half of each piece."""
    frame = SAMPLE_RATE * 30 // 1000
    cuts: list[int] = []
    cursor = 0
    while len(samples) - cursor > max_samples:
        low, high = cursor + max_samples // 2, cursor + max_samples
        window = samples[low:high].astype(np.float32)
        frames = len(window) // frame
        energy = np.square(window[: frames * frame].reshape(frames, frame)).mean(axis=1)
        cursor = low + int(np.argmin(energy)) * frame + frame // 2
        cuts.append(cursor)
    return cuts


def find_speech_regions(
    wav_path: Path, max_region_seconds: float = MAX_REGION_SECONDS
) -> tuple[list[SpeechRegion], float]:
    """Speech regions of a 16 kHz mono WAV (none longer than the limit) and its length in s."""
    from pocketsphinx import Segmenter

    max_samples = int(max_region_seconds * SAMPLE_RATE)
    regions: list[SpeechRegion] = []
    with wave.open(str(wav_path), "rb") as wav:
        total_samples = wav.getnframes()
        segmenter = Segmenter(sample_rate=SAMPLE_RATE)
        for speech in segmenter.segment(_WavFrames(wav)):
            first = round(speech.start_time * SAMPLE_RATE)
            samples = np.frombuffer(speech.pcm, dtype="<i2")
            bounds = [0, *_quiet_cut_points(samples, max_samples), len(samples)]
            for low, high in pairwise(bounds):
                regions.append(SpeechRegion(first + low, min(first + high, total_samples)))
    return [r for r in regions if r.end_sample > r.first_sample], total_samples / SAMPLE_RATE


# -- recognition in worker processes ---------------------------------------------------------
#
# Workers are plain `python -m` child processes speaking JSON lines over their stdin and
# stdout. Unlike multiprocessing's spawn, this never re-runs the caller's main script, and
# a worker whose parent dies sees its stdin close and exits.

_WORKER_MODULE = "reeldocs.providers.offline.speech"
_TASKS_PER_WORKER = 2  # one being decoded, one waiting, so no worker idles between regions

TimedWord = tuple[str, float, float]


def _timed_words(decoder: Any, offset: float, frame_rate: float) -> Iterator[TimedWord]:
    for item in decoder.seg():
        word: str = item.word
        # <s>, </s>, <sil>, [NOISE], ++BREATH++ and the like are not speech.
        if not word or word[0] in "<[+":
            continue
        yield (
            _ALTERNATE_PRONUNCIATION.sub("", word),
            offset + item.start_frame / frame_rate,
            offset + (item.end_frame + 1) / frame_rate,
        )


# A narrower search than pocketsphinx's defaults: no second "flat" pass, at most 3,000
# active HMMs per frame, 2 Gaussians per mixture. On read English (30 sentences spoken by
# festival's HTS voice, bench/speech_accuracy.py) it decodes 2.2x faster with the same
# word error rate (0.138 against the defaults' 0.145); keeping the best-path pass matters
# (without it the error rate rose to 0.183).
DECODER_SETTINGS: dict[str, Any] = {"fwdflat": False, "maxhmmpf": 3000, "topn": 2}


def serve_recognition_requests() -> None:
    """A worker's main loop: load the decoder once, then decode the WAV stretches it is sent."""
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints from native code must not corrupt the replies
    try:
        from pocketsphinx import Decoder

        decoder = Decoder(loglevel="FATAL", **DECODER_SETTINGS)
        frame_rate = float(decoder.config["frate"])
    except Exception as error:  # the parent turns this into a ProviderError
        replies.write(json.dumps({"index": -1, "error": f"{type(error).__name__}: {error}"}))
        replies.write("\n")
        return
    for line in sys.stdin:
        task = json.loads(line)
        first, end = task["first"], task["end"]
        reply: dict[str, Any] = {"index": task["index"]}
        try:
            with wave.open(task["wav"], "rb") as wav:
                wav.setpos(first)
                pcm = wav.readframes(end - first)
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
            reply["words"] = list(_timed_words(decoder, first / SAMPLE_RATE, frame_rate))
        except Exception as error:
            reply["error"] = f"{type(error).__name__}: {error}"
        replies.write(json.dumps(reply) + "\n")


class _Worker:
    def __init__(self, number: int, log_dir: Path) -> None:
        self.log_path = log_dir / f"speech-worker-{number}.log"
        source_root = str(Path(__file__).resolve().parents[3])
        inherited = os.environ.get("PYTHONPATH")
        env = {
            **os.environ,
            "PYTHONPATH": source_root + (os.pathsep + inherited if inherited else ""),
        }
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", _WORKER_MODULE],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                start_new_session=True,  # a terminal's Ctrl-C is for the parent, which stops us
            )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin = self.process.stdin
        self.stdout = self.process.stdout
        os.set_blocking(self.stdout.fileno(), False)
        self.pending: set[int] = set()
        self.unread = b""
        self.idle_since = 0.0  # when it last went back to its pool

    def send(self, index: int, wav_path: Path, region: SpeechRegion) -> None:
        task = {
            "index": index,
            "wav": str(wav_path),
            "first": region.first_sample,
            "end": region.end_sample,
        }
        try:
            self.stdin.write((json.dumps(task) + "\n").encode())
            self.stdin.flush()
        except BrokenPipeError:
            raise self.exit_failure() from None
        self.pending.add(index)

    def read_replies(self) -> list[dict[str, Any]] | None:
        """Complete replies available now, or None once the worker has exited."""
        chunk = self.stdout.read()
        if chunk == b"":
            return None
        self.unread += chunk or b""
        *lines, self.unread = self.unread.split(b"\n")
        replies = [json.loads(line) for line in lines if line.strip()]
        for reply in replies:
            self.pending.discard(reply["index"])
        return replies

    def exit_failure(self) -> ProviderError:
        code = self.process.wait()
        log_lines = self.log_path.read_text(errors="replace").strip().splitlines()
        detail = f": {log_lines[-1]}" if log_lines else ""
        return ProviderError(
            f"The offline speech recogniser stopped unexpectedly (exit code {code}{detail}); "
            "retrying the job may work.",
            transient=code < 0,  # killed by a signal, e.g. for lack of memory
        )

    def stop(self, *, graceful: bool) -> None:
        try:
            self.stdin.close()  # end of input: an idle worker exits at once
        except OSError:
            pass
        try:
            self.process.wait(timeout=2.0 if graceful else 0.0)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stdout.close()


def _settled_seconds(regions: list[SpeechRegion], decoded: dict[int, Any], total: float) -> float:
    """Audio time before the first region not yet decoded: everything before it is done."""
    for index, region in enumerate(regions):
        if index not in decoded:
            return region.start
    return total


class DecoderPool:
    """Recognition processes kept loaded from one job to the next.

    Starting one costs ~0.8 s of CPU (Python, then the acoustic model and the 130,000-word
    dictionary), which is a tenth of the work for a one-minute video. Only processes that
    finished their work cleanly come back; one that failed or was cancelled is stopped.
    Idle processes are stopped after `idle_seconds`, and exit by themselves when this
    process ends (their input closes).
    """

    def __init__(self, log_dir: Path | None = None, idle_seconds: float = 300.0) -> None:
        if log_dir is None:
            log_dir = Path(tempfile.mkdtemp(prefix="reeldocs-decoders-"))
            weakref.finalize(self, shutil.rmtree, log_dir, ignore_errors=True)
        self.log_dir = log_dir
        self.idle_seconds = idle_seconds
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._started = 0
        self._reaper: threading.Timer | None = None

    def take(self, count: int) -> list[_Worker]:
        with self._lock:
            alive: list[_Worker] = []
            dead: list[_Worker] = []
            for worker in self._idle:  # one look each: a process may exit meanwhile
                (alive if worker.process.poll() is None else dead).append(worker)
            taken, self._idle = alive[:count], alive[count:]
            numbers = range(self._started, self._started + count - len(taken))
            self._started += len(numbers)
        for worker in dead:
            worker.stop(graceful=False)
        return taken + [_Worker(number, self.log_dir) for number in numbers]

    def give_back(self, workers: list[_Worker], *, healthy: bool) -> None:
        if not healthy:
            for worker in workers:
                worker.stop(graceful=False)
            return
        now = time.monotonic()
        for worker in workers:
            worker.idle_since = now
        with self._lock:
            self._idle.extend(workers)
            self._schedule_reaper(self.idle_seconds)

    def idle_count(self) -> int:
        with self._lock:
            return len(self._idle)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop(graceful=True)

    def _schedule_reaper(self, delay: float) -> None:
        """One timer at a time (the lock is held): it stops expired processes when it fires
        and sets itself again for the next one to expire."""
        if self._reaper is not None:
            return
        self._reaper = threading.Timer(delay, self._stop_idle)
        self._reaper.daemon = True
        self._reaper.start()

    def _stop_idle(self) -> None:
        deadline = time.monotonic() - self.idle_seconds + 0.05
        with self._lock:
            self._reaper = None
            expired = [w for w in self._idle if w.idle_since <= deadline]
            self._idle = [w for w in self._idle if w.idle_since > deadline]
            if self._idle:
                oldest = min(w.idle_since for w in self._idle)
                self._schedule_reaper(max(0.05, oldest + self.idle_seconds - time.monotonic()))
        for worker in expired:
            worker.stop(graceful=True)


_shared_pool: DecoderPool | None = None
_shared_pool_lock = threading.Lock()


def shared_decoder_pool() -> DecoderPool:
    """The pool every recogniser in this process draws from."""
    global _shared_pool
    with _shared_pool_lock:
        if _shared_pool is None:
            _shared_pool = DecoderPool()
        return _shared_pool


def recognise_regions(
    wav_path: Path,
    regions: list[SpeechRegion],
    total: float,
    progress: Callable[[float, float], None],
    *,
    workers: int,
    pool: DecoderPool,
) -> list[Word]:
    """Words of every region, decoded by `workers` processes from `pool`.

    The processes go back to the pool when every region was decoded; on any failure or
    cancellation they are stopped before this returns.
    """
    taken: list[_Worker] = []
    finished = False
    try:
        taken = pool.take(min(workers, len(regions)))
        words = _drive_workers(taken, wav_path, regions, total, progress)
        finished = True
        return words
    finally:
        pool.give_back(taken, healthy=finished)


def _drive_workers(
    workers: list[_Worker],
    wav_path: Path,
    regions: list[SpeechRegion],
    total: float,
    progress: Callable[[float, float], None],
) -> list[Word]:
    decoded: dict[int, list[TimedWord]] = {}
    next_region = 0
    last_report = time.monotonic()
    with selectors.DefaultSelector() as selector:
        for worker in workers:
            selector.register(worker.stdout, selectors.EVENT_READ, worker)
        while len(decoded) < len(regions):
            # Always to the least busy worker, so neighbouring regions finish close together.
            while next_region < len(regions):
                least_busy = min(workers, key=lambda worker: len(worker.pending))
                if len(least_busy.pending) >= _TASKS_PER_WORKER:
                    break
                least_busy.send(next_region, wav_path, regions[next_region])
                next_region += 1
            changed = False
            for key, _ in selector.select(timeout=HEARTBEAT_SECONDS / 2):
                worker = key.data
                replies = worker.read_replies()
                if replies is None:
                    raise worker.exit_failure()
                for reply in replies:
                    if "error" in reply:
                        raise ProviderError(
                            f"The offline speech recogniser failed: {reply['error']}."
                        )
                    decoded[reply["index"]] = [tuple(word) for word in reply["words"]]
                    changed = True
            # Progress doubles as the cancellation check, so it runs even when nothing moved.
            now = time.monotonic()
            if changed or now - last_report >= HEARTBEAT_SECONDS:
                progress(_settled_seconds(regions, decoded, total), total)
                last_report = now
    timed = sorted((word for words in decoded.values() for word in words), key=lambda w: w[1])
    return [Word(text=text, start=start, end=end) for text, start, end in timed]


# -- the provider ----------------------------------------------------------------------------


def _render_pocketsphinx_text(words: Sequence[Word]) -> str:
    return _PRONOUN_I.sub("I", " ".join(word.text for word in words))


def _report_nothing_to_hear(media: MediaContext) -> None:
    if media.duration > 0:
        media.progress(media.duration, media.duration)


class PocketsphinxUnderstanding:
    """English speech to timestamped segments, fully offline, with pocketsphinx's en-us model."""

    name = "pocketsphinx"

    def __init__(
        self,
        *,
        workers: int | None = None,
        max_region_seconds: float = MAX_REGION_SECONDS,
        pool: DecoderPool | None = None,
    ) -> None:
        self.workers = max(1, workers if workers is not None else min(2, os.cpu_count() or 1))
        self.max_region_seconds = max_region_seconds
        self.pool = pool if pool is not None else shared_decoder_pool()

    def languages(self) -> list[str]:
        return ["en"]

    def understand(self, media: MediaContext) -> list[Segment]:
        language = (media.source_language or "").lower().replace("_", "-").split("-")[0]
        if language not in _ENGLISH_CODES:
            raise ProviderError(
                "The offline speech recogniser understands English only, and this video is "
                f"marked as spoken in '{media.source_language}'. Process it as English, or "
                "set up Gemini or a local Whisper model for other languages."
            )
        audio_path = Path(media.audio_path) if media.audio_path is not None else None
        if audio_path is None or not audio_path.is_file() or audio_path.stat().st_size == 0:
            _report_nothing_to_hear(media)
            return []
        with tempfile.TemporaryDirectory(prefix="reeldocs-speech-") as workdir:
            wav_path: Path | None = audio_path
            if not _is_pcm16k_mono_wav(audio_path):
                wav_path = _convert_to_pcm16k_wav(audio_path, Path(workdir) / "speech.wav")
            if wav_path is None:
                _report_nothing_to_hear(media)
                return []
            regions, total = find_speech_regions(wav_path, self.max_region_seconds)
            if not regions:
                if total > 0:
                    media.progress(total, total)
                return []
            media.progress(regions[0].start, total)
            words = recognise_regions(
                wav_path,
                regions,
                total,
                media.progress,
                workers=self.workers,
                pool=self.pool,
            )
        return build_segments(
            words,
            media.known_scenes(),
            lambda first, last: _render_pocketsphinx_text(words[first:last]),
        )


if __name__ == "__main__":
    serve_recognition_requests()
