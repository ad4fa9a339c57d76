"""Which providers run, chosen from REELDOCS_PROVIDER, and what languages they offer."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol, runtime_checkable

from reeldocs.core.languages import language_name, ordered_languages
from reeldocs.core.settings import Settings
from reeldocs.providers.base import ProviderError, Translator, Understanding, Writer


@dataclass(frozen=True)
class LanguageOption:
    code: str
    label: str
    primary: bool
    translate: bool
    spoken: bool = False  # the speech model recognises it


@runtime_checkable
class EngineChoosingTranslator(Protocol):
    """A translator made of several engines that can tell which one serves a language pair."""

    def engine_for(self, source: str, target: str) -> str | None: ...


@dataclass
class ProviderSet:
    understanding: Understanding
    writer: Writer
    translator: Translator | None

    def names(self, languages: list[str] | None = None) -> dict[str, str]:
        """Which providers run; with several translation engines, also which engine
        translates into each language (`translating_<code>`), of `languages` if given."""
        names = {"understanding": self.understanding.name, "writing": self.writer.name}
        if self.translator is not None:
            names["translating"] = self.translator.name
        if isinstance(self.translator, EngineChoosingTranslator):
            for source in self.writer.languages():
                for target in self.translator.targets(source):
                    if languages is not None and target not in languages[1:]:
                        continue
                    engine = self.translator.engine_for(source, target)
                    if engine is not None:
                        names.setdefault(f"translating_{target}", engine)
        return names

    def spoken_languages(self) -> list[str]:
        return self.understanding.languages()

    def options(self) -> list[LanguageOption]:
        """Every language Reeldocs can work with now. Primary: docs can be written in it
        from what is spoken; translate: a translation target; spoken: the speech model
        recognises it. The speech model's first language comes first."""
        spoken = self.spoken_languages()
        heard = set(spoken)
        primary = set(self.writer.languages())
        targets: set[str] = set()
        if self.translator is not None:
            for source in primary:
                targets.update(self.translator.targets(source))
        codes = ordered_languages(primary | targets | heard, spoken[0] if spoken else None)
        return [
            LanguageOption(
                code, language_name(code), code in primary, code in targets, code in heard
            )
            for code in codes
        ]


def effective_provider(settings: Settings) -> str:
    if settings.provider == "auto":
        return "gemini" if settings.gemini_api_key else "offline"
    return settings.provider


def _offline_understanding(settings: Settings) -> Understanding:
    from reeldocs.providers.offline.whisper import WhisperUnderstanding

    return WhisperUnderstanding(
        settings.whisper_model,
        model_path=settings.whisper_model_path,
        models_dir=settings.data_dir / "models",
    )


def _offline_translator(settings: Settings) -> Translator | None:
    """Argos packages where installed, Apertium for the other languages, or no translator."""
    from reeldocs.providers.offline.argos import ArgosTranslator, default_packages_dir
    from reeldocs.providers.offline.translate import ApertiumTranslator, OfflineTranslator

    argos = ArgosTranslator(
        default_packages_dir(settings.argos_packages_dir),
        configured=settings.argos_packages_dir is not None,
    )
    apertium = ApertiumTranslator()
    if not argos.packages:
        return apertium if apertium.targets("en") else None
    engines: list[Translator] = [argos]
    if apertium.targets("en"):
        engines.append(apertium)
    return OfflineTranslator(engines)


def build_providers(settings: Settings) -> ProviderSet:
    kind = effective_provider(settings)
    if kind == "gemini":
        if not settings.gemini_api_key:
            raise ProviderError(
                "REELDOCS_PROVIDER is gemini but no key is set: set GEMINI_API_KEY, "
                "or use REELDOCS_PROVIDER=offline."
            )
        from reeldocs.providers.gemini import GeminiProvider

        gemini = GeminiProvider(
            api_key=settings.gemini_api_key,
            model=settings.gemini_model,
            base_url=settings.gemini_base_url,
        )
        return ProviderSet(gemini, gemini, gemini)
    if kind == "openai":
        if not (settings.openai_base_url and settings.openai_model):
            raise ProviderError(
                "REELDOCS_PROVIDER is openai: set REELDOCS_OPENAI_BASE_URL and "
                "REELDOCS_OPENAI_MODEL to your server (Ollama, vLLM, llama.cpp)."
            )
        from reeldocs.providers.openai_compat import OpenAICompatibleProvider

        remote = OpenAICompatibleProvider(
            base_url=settings.openai_base_url,
            model=settings.openai_model,
            api_key=settings.openai_api_key,
        )
        return ProviderSet(_offline_understanding(settings), remote, remote)
    from reeldocs.providers.offline.writer import ExtractiveWriter

    return ProviderSet(
        _offline_understanding(settings), ExtractiveWriter(), _offline_translator(settings)
    )


@lru_cache(maxsize=4)
def _cached_options(settings: Settings) -> tuple[LanguageOption, ...]:
    return tuple(build_providers(settings).options())


def language_options(settings: Settings) -> list[LanguageOption]:
    return list(_cached_options(settings))


@lru_cache(maxsize=4)
def _cached_speech(settings: Settings) -> tuple[tuple[str, ...], str]:
    understanding = build_providers(settings).understanding
    return tuple(understanding.languages()), str(getattr(understanding, "languages_note", ""))


def spoken_languages(settings: Settings) -> list[str]:
    """What the configured speech recognition can hear; building the providers probes the
    machine (Apertium's pairs, Argos packages), so it is done once per settings."""
    return list(_cached_speech(settings)[0])


def spoken_languages_note(settings: Settings) -> str:
    """A sentence on how to hear more languages, when the speech model has one to say
    ("The speech model tiny.en understands English only; …"), else ""."""
    return _cached_speech(settings)[1]
