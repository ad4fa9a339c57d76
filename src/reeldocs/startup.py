"""What a starting Reeldocs process tells the person who started it: one line per fact.

Where to open it, where its data lives, which database and file storage it uses, the
engines and languages in use, and what is missing and how to add it.
"""

from __future__ import annotations

import logging
from urllib.parse import urlparse

from reeldocs.core.db import DatabaseUrls, SchemaChange
from reeldocs.core.settings import Settings

_logger = logging.getLogger("reeldocs")


def browser_url(host: str, port: int) -> str:
    """The address a person on this machine opens (a wildcard address is not one)."""
    shown = "localhost" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _database(settings: Settings, urls: DatabaseUrls) -> str:
    if settings.embedded_database:
        return f"Database: embedded PostgreSQL in {settings.data_dir / 'pgdata'}"
    parsed = urlparse(urls.libpq)
    where = parsed.hostname or "a local socket"
    port = f":{parsed.port}" if parsed.port else ""
    return f"Database: PostgreSQL at {where}{port}{parsed.path or ''}"  # no credentials


def _schema(change: SchemaChange) -> str:
    if change.before == change.after:
        return f"Database schema: up to date (revision {change.after})"
    if change.before is None:
        return f"Database schema: created (revision {change.after})"
    return f"Database schema: upgraded from revision {change.before} to {change.after}"


def _files(settings: Settings) -> str:
    if settings.storage_url.startswith("s3://"):
        endpoint = f" at {settings.s3_endpoint_url}" if settings.s3_endpoint_url else ""
        return f"Files: object storage {settings.storage_url}{endpoint}"
    return f"Files: {settings.storage_url.removeprefix('file://')}"


def _engines_and_languages(settings: Settings) -> list[str]:
    from reeldocs.providers.base import ProviderError
    from reeldocs.providers.registry import build_providers, language_options

    try:
        names = build_providers(settings).names()
    except ProviderError as error:  # said again, and acted on, where the engines are used
        return [f"Engines: cannot start: {error.message}"]
    speech = names["understanding"]
    if speech == "whisper":
        speech = f"faster-whisper {settings.whisper_model or 'tiny.en'}"
    engines = f"Engines: speech {speech}, writing {names['writing']}"
    if "translating" in names:
        engines += f", translation {names['translating']}"
    options = language_options(settings)
    primary = [option.label for option in options if option.primary]
    targets = [option.label for option in options if option.translate]
    languages = f"Languages: docs in {', '.join(primary) or 'no language'}"
    languages += f"; translations into {', '.join(targets)}" if targets else "; no translations"
    return [engines, languages]


def _missing_tools(settings: Settings) -> list[str]:
    from reeldocs.media import ocr
    from reeldocs.providers.registry import effective_provider, language_options

    if effective_provider(settings) != "offline":
        return []
    missing = []
    if not ocr.available():
        missing.append(
            "Tesseract is not installed, so on-screen text is not read and offline chapter "
            "titles come from the speech alone. Install Debian's tesseract-ocr and "
            "tesseract-ocr-eng (scripts/install-system-packages.sh)."
        )
    if not any(option.translate for option in language_options(settings)):
        missing.append(
            "Neither Apertium nor an Argos Translate package is installed, so Reeldocs offers "
            "English docs only. For offline translations install Debian's apertium with "
            "apertium-eng-spa, apertium-eng-cat, apertium-en-gl and apertium-eo-en "
            "(scripts/install-system-packages.sh), or Argos packages with argospm "
            "(see REELDOCS_ARGOS_PACKAGES_DIR)."
        )
    return missing


def facts(
    settings: Settings,
    urls: DatabaseUrls,
    schema: SchemaChange,
    *,
    address: str | None = None,
    processes: str | None = None,
) -> list[str]:
    """The start-up lines, in the order a person reads them."""
    lines = [f"Reeldocs is ready: open {address}"] if address else []
    lines += [
        f"Data directory: {settings.data_dir}",
        _database(settings, urls),
        _schema(schema),
        _files(settings),
        *_engines_and_languages(settings),
    ]
    if processes:
        lines.append(f"Processes: {processes}")
    return lines


def report(
    settings: Settings,
    urls: DatabaseUrls,
    schema: SchemaChange,
    *,
    address: str | None = None,
    processes: str | None = None,
) -> None:
    for line in facts(settings, urls, schema, address=address, processes=processes):
        _logger.info("%s", line)
    for line in _missing_tools(settings):
        _logger.warning("%s", line)
