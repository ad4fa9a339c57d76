"""The Whisper engine refuses a missing or unusable model at once, with a sentence to act on."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reeldocs.providers.base import MediaContext, ProviderError
from reeldocs.providers.offline.whisper import (
    MODEL_PATH_SETTING,
    WHISPER_LANGUAGES,
    WhisperUnderstanding,
)

FASTER_WHISPER_INSTALLED = importlib.util.find_spec("faster_whisper") is not None


@contextmanager
def refused_within(seconds: float, match: str) -> Iterator[None]:
    started = time.monotonic()
    with pytest.raises(ProviderError, match=match) as refused:
        yield
    assert time.monotonic() - started < seconds
    assert not refused.value.transient  # retrying cannot fix configuration


def fake_model_folder(folder: Path) -> Path:
    """Files named like a converted model, whose contents no engine can load."""
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"not a model")
    (folder / "config.json").write_text(json.dumps({"lang_ids": [50259, 50260]}))
    (folder / "tokenizer.json").write_text("{}")
    return folder


@pytest.mark.parametrize("unset", [None, "", "   "])
def test_no_model_path_is_refused_at_once(unset: str | None) -> None:
    with refused_within(1.0, f"needs a local model: set {MODEL_PATH_SETTING} .* is not set"):
        WhisperUnderstanding(unset)


def test_a_model_path_that_does_not_exist_is_refused_at_once(tmp_path: Path) -> None:
    missing = tmp_path / "models" / "whisper-small"
    with refused_within(1.0, f"none was found at {missing}"):
        WhisperUnderstanding(str(missing))


def test_an_empty_folder_is_refused_at_once(tmp_path: Path) -> None:
    with refused_within(1.0, "does not hold a faster-whisper model: model.bin, config.json"):
        WhisperUnderstanding(str(tmp_path))


def test_a_file_instead_of_a_folder_is_refused_at_once(tmp_path: Path) -> None:
    model_file = tmp_path / "model.bin"
    model_file.write_bytes(b"weights")
    with refused_within(1.0, "is a file; point it at the folder"):
        WhisperUnderstanding(str(model_file))


def test_a_folder_missing_the_tokenizer_is_refused_at_once(tmp_path: Path) -> None:
    folder = fake_model_folder(tmp_path / "model")
    (folder / "tokenizer.json").unlink()
    with refused_within(1.0, "tokenizer.json is missing"):
        WhisperUnderstanding(str(folder))


@pytest.mark.skipif(FASTER_WHISPER_INSTALLED, reason="faster-whisper is installed here")
def test_without_faster_whisper_a_model_folder_is_refused_at_once(tmp_path: Path) -> None:
    folder = fake_model_folder(tmp_path / "model")
    with refused_within(1.0, "faster-whisper is not installed: run `pip install faster-whisper`"):
        WhisperUnderstanding(str(folder))
    assert "faster_whisper" not in sys.modules


@pytest.mark.skipif(not FASTER_WHISPER_INSTALLED, reason="needs faster-whisper installed")
def test_with_faster_whisper_an_unloadable_model_fails_with_a_sentence(tmp_path: Path) -> None:
    folder = fake_model_folder(tmp_path / "model")
    provider = WhisperUnderstanding(str(folder))
    assert provider.languages() == list(WHISPER_LANGUAGES)
    audio = tmp_path / "audio.wav"
    audio.write_bytes(b"RIFF")
    media = MediaContext(Path("v.mp4"), audio, 1.0, "video/mp4", [], None)
    with pytest.raises(ProviderError, match="could not be loaded"):
        provider.understand(media)


def test_whisper_languages_are_iso_codes_including_the_common_ones() -> None:
    assert {"en", "es", "fr", "de", "it", "pt", "nl", "ca", "gl", "ja", "zh"} <= set(
        WHISPER_LANGUAGES
    )
    assert all(len(code) == 2 and code.islower() for code in WHISPER_LANGUAGES)
    assert len(set(WHISPER_LANGUAGES)) == len(WHISPER_LANGUAGES) > 90
