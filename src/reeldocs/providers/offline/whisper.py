"""Offline speech recognition with faster-whisper: speech to timestamped segments.

The model is chosen, found or downloaded and loaded by `whisper_models`; it stays loaded
in the worker between jobs. Silero voice-activity filtering (shipped in faster-whisper's
wheel) skips the silence, word timestamps place the words, and `transcript` groups them
into segments that end at sentence ends, pauses and scene cuts.
"""

from __future__ import annotations

import os
import wave
from pathlib import Path
from typing import Any

import numpy as np

from reeldocs.providers.base import MediaContext, ProviderError, Segment, Word
from reeldocs.providers.offline import whisper_models
from reeldocs.providers.offline.whisper_models import MODEL_SETTING, ModelChoice
from reeldocs.providers.transcript import build_segments

SAMPLE_RATE = 16000

# Whisper's languages that have an ISO 639-1 code (it also knows Hawaiian and Cantonese),
# English first: the language a multilingual model is offered in first.
WHISPER_LANGUAGES = (
    "en af am ar as az ba be bg bn bo br bs ca cs cy da de el es et eu fa fi fo fr gl gu ha "
    "he hi hr ht hu hy id is it ja jv ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt "
    "my ne nl nn no oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg th tk "
    "tl tr tt uk ur uz vi yi yo zh"
).split()
# Whisper's own code for Javanese predates ISO 639-1's.
_WHISPER_CODES = {"jv": "jw"}
_ISO_CODES = {whisper: iso for iso, whisper in _WHISPER_CODES.items()}

# Chosen by measuring (bench/speech_accuracy.py: tiny.en, int8, 2 threads; the same 175
# words read by festival and by espeak-ng with 1 s pauses, 77 s and 81 s, and by festival
# with 8 s pauses of quiet hiss, 182 s; word error rate and CPU seconds per 60 s of audio,
# the best of three runs on a shared 2-core machine):
#                                        festival      espeak-ng     8 s pauses
#   beam 1, conditioned, no VAD          0.057  2.3    0.034  2.8    0.034  3.0
#   beam 1, not conditioned, no VAD      0.034  2.6    0.034  2.7    0.097  2.3
#   beam 1, not conditioned, VAD (ours)  0.029  2.5    0.017  2.7    0.040  1.1
#   beam 5, not conditioned, VAD         0.029  3.1    0.011  3.3    0.046  1.4
#   beam 5, conditioned, VAD             0.046  3.4    0.017  3.6    0.051  1.5
# A beam of 5 costs a quarter more for one word in 175 on espeak-ng and none on festival.
# Conditioning on the previous text made more errors (and is what lets Whisper repeat
# itself in a loop). Voice-activity filtering costs nothing measurable with short pauses,
# and when nobody talks for most of the audio, as in screencasts, it halves the work and
# makes fewer errors.
DECODING_OPTIONS: dict[str, Any] = {
    "beam_size": 1,
    "condition_on_previous_text": False,
    "vad_filter": True,
    "word_timestamps": True,
}
COMPUTE_TYPE = "int8"


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def language_code(code: str | None) -> str | None:
    """ISO 639-1 code of a job's spoken language; None for "detect it"."""
    cleaned = (code or "").strip().lower().replace("_", "-").split("-")[0]
    return None if cleaned in ("", "auto") else cleaned


# ---- reading audio -------------------------------------------------------------------------

# Whisper hears the soundtrack a stretch at a time: faster-whisper computes its features
# of all the audio it is given at once, about 60 MB a minute. Measured on 10 minutes of
# festival's speech: a peak of 879 MB for the whole at once, 434 MB in stretches of two
# minutes, in the same time; on 3 minutes with long pauses the same word error rate
# (0.04), while 30 s stretches cost 70% more CPU. Stretches are cut at the quietest tenth
# of a second near their end, so no word is cut in two, and nothing is lost between
# them, since each 30 s window is decoded without the text before it anyway.
STRETCH_SECONDS = 120.0
CUT_SEARCH_SECONDS = 20.0


class SpeechAudio:
    """A soundtrack at 16 kHz, read a stretch at a time (from the WAV the pipeline
    extracted, without holding all of it; or from samples PyAV decoded)."""

    def __init__(self, wav_path: Path | None = None, samples: np.ndarray | None = None) -> None:
        self.wav_path = wav_path
        self.samples = samples
        if wav_path is not None:
            with wave.open(str(wav_path), "rb") as wav:
                self.total_samples = wav.getnframes()
        else:
            self.total_samples = 0 if samples is None else len(samples)

    @property
    def seconds(self) -> float:
        return self.total_samples / SAMPLE_RATE

    def read(self, first: int, end: int) -> np.ndarray:
        """Float samples [first, end)."""
        if self.samples is not None:
            return self.samples[first:end]
        assert self.wav_path is not None
        with wave.open(str(self.wav_path), "rb") as wav:
            wav.setpos(first)
            pcm = wav.readframes(end - first)
        return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def _is_pcm16k_mono_wav(path: Path) -> bool:
    try:
        with wave.open(str(path), "rb") as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
    except (wave.Error, EOFError):
        return False
    return (rate, channels, width) == (SAMPLE_RATE, 1, 2)


def open_audio(path: Path) -> SpeechAudio | None:
    """The 16 kHz soundtrack of any audio PyAV reads; None when it holds no sound."""
    if _is_pcm16k_mono_wav(path):
        audio = SpeechAudio(wav_path=path)
        return audio if audio.total_samples else None
    import av
    from faster_whisper.audio import decode_audio

    try:
        with av.open(str(path), metadata_errors="replace") as container:
            if not container.streams.audio:
                return None
        samples = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except (av.FFmpegError, OSError, ValueError) as error:
        raise ProviderError(
            f"The audio track of this video could not be read ({error}); check that the "
            "file plays, or upload it again."
        ) from error
    return SpeechAudio(samples=samples) if len(samples) else None


def stretches(
    audio: SpeechAudio,
    seconds: float = STRETCH_SECONDS,
    search_seconds: float = CUT_SEARCH_SECONDS,
) -> list[tuple[int, int]]:
    """Sample ranges [first, end) of at most `seconds` each, covering the audio, each cut
    at the quietest tenth of a second of its last `search_seconds` (or last half)."""
    length = int(seconds * SAMPLE_RATE)
    search = min(int(search_seconds * SAMPLE_RATE), length // 2)
    frame = SAMPLE_RATE // 10
    bounds: list[tuple[int, int]] = []
    first = 0
    while audio.total_samples - first > length:
        low = first + length - search
        window = audio.read(low, first + length)
        frames = len(window) // frame
        energy = np.square(window[: frames * frame].reshape(frames, frame)).mean(axis=1)
        cut = low + int(np.argmin(energy)) * frame + frame // 2
        bounds.append((first, cut))
        first = cut
    bounds.append((first, audio.total_samples))
    return bounds


# ---- the provider --------------------------------------------------------------------------


class WhisperUnderstanding:
    """Speech to timestamped segments with a faster-whisper model, fully offline once the
    model is on the machine."""

    name = "whisper"

    def __init__(
        self,
        model: str | None = None,
        *,
        model_path: str | None = None,
        models_dir: Path,
        compute_type: str = COMPUTE_TYPE,
        cpu_threads: int | None = None,
        stretch_seconds: float = STRETCH_SECONDS,
    ) -> None:
        self.choice: ModelChoice = whisper_models.choose_model(model, model_path)
        self.models_dir = models_dir
        self.compute_type = compute_type
        self.cpu_threads = cpu_threads or available_cores()
        self.stretch_seconds = stretch_seconds

    def languages(self) -> list[str]:
        return ["en"] if self.choice.english_only else list(WHISPER_LANGUAGES)

    @property
    def languages_note(self) -> str:
        """How to hear more languages, for refusals of a language the model cannot hear."""
        if not self.choice.english_only:
            return ""
        return (
            f"The speech model {self.choice.label} understands English only; set "
            f"{MODEL_SETTING} to a multilingual model such as small."
        )

    def _requested_language(self, media: MediaContext) -> str | None:
        code = language_code(media.source_language)
        if code is None or code in self.languages():
            return code
        if self.choice.english_only:
            raise ProviderError(
                f"The speech model {self.choice.label} understands English only, and this "
                f"video is marked as spoken in '{media.source_language}'; set {MODEL_SETTING} "
                "to a multilingual model such as small, or process the video as English."
            )
        raise ProviderError(
            f"The speech model {self.choice.label} cannot recognise "
            f"'{media.source_language}'; choose one of: {', '.join(self.languages())}."
        )

    def model_folder(self, notice: whisper_models.Notice) -> Path:
        """Where the model's files are, downloading them first if need be."""
        choice = self.choice
        if choice.folder is not None:
            if choice.bundled:
                whisper_models.check_bundled_model(choice.folder)
            return choice.folder
        assert choice.hub_name is not None
        found = whisper_models.downloaded_model_folder(choice.hub_name, self.models_dir)
        if found is not None:
            return found
        return whisper_models.download_model_folder(choice.hub_name, self.models_dir, notice)

    def load(self, notice: whisper_models.Notice = lambda message: None) -> Any:
        folder = self.model_folder(notice)
        if not whisper_models.is_loaded(folder, self.compute_type):
            notice(f"Loading the speech model {self.choice.label}")
        return whisper_models.loaded_model(folder, self.compute_type, self.cpu_threads)

    def understand(self, media: MediaContext) -> list[Segment]:
        language = self._requested_language(media)
        audio_path = Path(media.audio_path) if media.audio_path is not None else None
        audio = None
        if audio_path is not None and audio_path.is_file() and audio_path.stat().st_size:
            audio = open_audio(audio_path)
        if audio is None:
            if media.duration > 0:
                media.progress(media.duration, media.duration)
            return []
        total = audio.seconds
        media.progress(0.0, total)
        model = self.load(media.notice)
        asked = _WHISPER_CODES.get(language or "", language)
        words: list[Word] = []
        spoken: list[str] = []  # as Whisper wrote them, leading spaces and punctuation included
        for first, end in stretches(audio, self.stretch_seconds):
            offset = first / SAMPLE_RATE
            try:
                pieces, info = model.transcribe(
                    audio.read(first, end), language=asked, **DECODING_OPTIONS
                )
            except Exception as error:
                raise ProviderError(
                    f"The speech model could not hear the audio of this video ({error})."
                ) from error
            heard_before = len(words)
            try:
                # Decoding happens while iterating: progress (and so cancellation) is
                # checked after every piece Whisper decodes.
                for piece in pieces:
                    self._collect(piece, offset, total, words, spoken)
                    media.progress(min(offset + float(piece.end), total), total)
            finally:
                pieces.close()
            if asked is None and (len(words) > heard_before or self.choice.english_only):
                # The language heard first is taken for the rest of the video.
                asked = info.language
                media.source_language = _ISO_CODES.get(info.language, info.language)
            media.progress(end / SAMPLE_RATE, total)
        order = sorted(range(len(words)), key=lambda index: words[index].start)
        words = [words[index] for index in order]
        spoken = [spoken[index] for index in order]
        return build_segments(
            words, media.known_scenes(), lambda first, last: "".join(spoken[first:last]).strip()
        )

    @staticmethod
    def _collect(
        piece: Any, offset: float, total: float, words: list[Word], spoken: list[str]
    ) -> None:
        """The timed words of one decoded piece, on the video's clock."""
        timed = piece.words or []
        if not timed and piece.text.strip():
            start, end = offset + float(piece.start), offset + float(piece.end)
            words.append(Word(piece.text.strip(), min(start, total), min(end, total)))
            spoken.append(piece.text)
        for word in timed:
            if word.word.strip():
                start, end = offset + float(word.start), offset + float(word.end)
                words.append(Word(word.word.strip(), min(start, total), min(end, total)))
                spoken.append(word.word)
