"""Offline speech recognition with a local faster-whisper model, for when one is configured.

faster-whisper is optional: it is imported only when a model is actually used, and
everything that can be checked without it (is a model folder configured, does it
hold a model, is the package installed) is checked when the provider is built, so a
misconfiguration fails at once with a sentence that says what to do, never after a
download attempt or half-way through a job.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from pathlib import Path
from typing import Any

from reeldocs.providers.base import MediaContext, ProviderError, Segment, Word
from reeldocs.providers.offline.speech import build_segments

MODEL_PATH_SETTING = "REELDOCS_WHISPER_MODEL_PATH"
# A converted model folder also has vocabulary files; these three are what loading needs
# without going to the network (faster-whisper downloads a tokenizer when it is missing).
REQUIRED_MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")

# Whisper's languages that have an ISO 639-1 code (it also knows Hawaiian and Cantonese).
WHISPER_LANGUAGES = (
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha "
    "he hi hr ht hu hy id is it ja ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt "
    "my ne nl nn no oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg th tk "
    "tl tr tt uk ur uz vi yi yo zh"
).split()


def _missing_model_error(model_path: str | None) -> ProviderError:
    where = f"none was found at {model_path}" if model_path else f"{MODEL_PATH_SETTING} is not set"
    return ProviderError(
        f"The Whisper engine needs a local model: set {MODEL_PATH_SETTING} to a folder holding "
        f"a faster-whisper model ({', '.join(REQUIRED_MODEL_FILES)}); {where}."
    )


def _is_english_only(config_path: Path) -> bool:
    # CTranslate2 lists the language tokens of multilingual models; ".en" models have none.
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and config.get("lang_ids") == []


class WhisperUnderstanding:
    """Speech to timestamped segments with a faster-whisper model from a local folder."""

    name = "whisper"

    def __init__(
        self,
        model_path: str | None,
        *,
        compute_type: str = "int8",
        cpu_threads: int | None = None,
    ) -> None:
        if not model_path or not model_path.strip():
            raise _missing_model_error(None)
        folder = Path(model_path).expanduser()
        if not folder.exists():
            raise _missing_model_error(model_path)
        if not folder.is_dir():
            raise ProviderError(
                f"{MODEL_PATH_SETTING} must name a folder holding a faster-whisper model, "
                f"but {model_path} is a file; point it at the folder that contains model.bin."
            )
        missing = [name for name in REQUIRED_MODEL_FILES if not (folder / name).is_file()]
        if missing:
            raise ProviderError(
                f"The folder {model_path} does not hold a faster-whisper model: "
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing. "
                f"Point {MODEL_PATH_SETTING} at a converted model folder (for example a copy "
                "of Systran/faster-whisper-small)."
            )
        if importlib.util.find_spec("faster_whisper") is None:
            raise ProviderError(
                "faster-whisper is not installed: run `pip install faster-whisper` in Reeldocs' "
                "environment to use the Whisper engine, or unset "
                f"{MODEL_PATH_SETTING} to use the built-in English recogniser."
            )
        self.model_folder = folder
        self.compute_type = compute_type
        self.cpu_threads = cpu_threads or os.cpu_count() or 1
        self._english_only = _is_english_only(folder / "config.json")
        self._model: Any = None
        self._model_lock = threading.Lock()

    def languages(self) -> list[str]:
        return ["en"] if self._english_only else list(WHISPER_LANGUAGES)

    def _loaded_model(self) -> Any:
        # Loading takes seconds and hundreds of MB: once per provider, on first use.
        with self._model_lock:
            if self._model is None:
                from faster_whisper import WhisperModel

                try:
                    self._model = WhisperModel(
                        str(self.model_folder),
                        device="cpu",
                        compute_type=self.compute_type,
                        cpu_threads=self.cpu_threads,
                        local_files_only=True,
                    )
                except Exception as error:
                    raise ProviderError(
                        f"The Whisper model in {self.model_folder} could not be loaded "
                        f"({error}); check that it is a complete faster-whisper model."
                    ) from error
            return self._model

    def _requested_language(self, media: MediaContext) -> str | None:
        code = (media.source_language or "").lower().replace("_", "-").split("-")[0]
        if code in ("", "auto"):
            return None
        if code not in self.languages():
            raise ProviderError(
                f"The Whisper model in {self.model_folder} cannot recognise "
                f"'{media.source_language}'; choose one of: {', '.join(self.languages())}."
            )
        return code

    def understand(self, media: MediaContext) -> list[Segment]:
        language = self._requested_language(media)
        audio_path = Path(media.audio_path) if media.audio_path is not None else None
        if audio_path is None or not audio_path.is_file() or audio_path.stat().st_size == 0:
            if media.duration > 0:
                media.progress(media.duration, media.duration)
            return []
        model = self._loaded_model()
        try:
            pieces, info = model.transcribe(
                str(audio_path), language=language, word_timestamps=True, vad_filter=True
            )
        except Exception as error:
            raise ProviderError(
                f"Whisper could not read the audio of this video ({error})."
            ) from error
        total = float(info.duration or media.duration or 0.0)
        words: list[Word] = []
        spoken: list[str] = []  # as Whisper wrote them, leading spaces and punctuation included
        try:
            # The transcription happens while iterating: progress (and so cancellation) is
            # checked after every piece Whisper decodes.
            for piece in pieces:
                timed = piece.words or []
                if not timed and piece.text.strip():
                    words.append(Word(piece.text.strip(), float(piece.start), float(piece.end)))
                    spoken.append(piece.text)
                for word in timed:
                    if word.word.strip():
                        words.append(Word(word.word.strip(), float(word.start), float(word.end)))
                        spoken.append(word.word)
                media.progress(min(float(piece.end), total), total)
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()
        media.progress(total, total)
        order = sorted(range(len(words)), key=lambda index: words[index].start)
        words = [words[index] for index in order]
        spoken = [spoken[index] for index in order]
        return build_segments(
            words, media.known_scenes(), lambda first, last: "".join(spoken[first:last]).strip()
        )
