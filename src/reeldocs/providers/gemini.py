"""Gemini as understanding, writer and translator, through the google-genai SDK.

Only the transport is here: uploading the video to the Files API, waiting for
it, calling generateContent and turning the SDK's errors into sentences. What is
asked and how answers are checked is `GenerativeDocsProvider`'s
(`reeldocs.providers.generative`), shared with the OpenAI-compatible provider.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from reeldocs.providers.base import MediaContext, ProviderError, Segment, TransientProviderError
from reeldocs.providers.generative import (
    GenerativeDocsProvider,
    ResponseShapeError,
    language_from_payload,
    loads_model_json,
    segments_from_payload,
    understanding_prompt,
    understanding_schema,
)
from reeldocs.providers.retry import RetryPolicy, StopCheck, wait_or_stop

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_GEMINI_MODEL = "gemini-2.5-flash"

# the SDK talks through httpx2 (its own dependency) and falls back to httpx
_TIMEOUT_ERRORS = (httpx.TimeoutException, httpx2.TimeoutException)
_CONNECTION_ERRORS = (httpx.TransportError, httpx2.TransportError)
_REFUSALS = {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "MODEL_ARMOR"}
# past this, low media resolution keeps a long video inside the model's context
_LONG_VIDEO_SECONDS = 40 * 60


@dataclass(frozen=True)
class GeminiTimeouts:
    request_seconds: float = 300.0  # one generateContent over a long video can take minutes
    upload_chunk_seconds: float = 300.0  # the SDK sends 8 MB per request
    processing_seconds: float = 600.0  # for the Files API to turn the video ACTIVE
    poll_interval_seconds: float = 3.0


class GeminiProvider(GenerativeDocsProvider):
    """Understanding, Writer and Translator backed by Gemini.

    `understand` fills `media.source_language` with the detected language when it
    was None, since the Understanding interface returns segments only.
    """

    name = "gemini"
    label = "Gemini"

    def __init__(
        self,
        api_key: str,
        model: str = DEFAULT_GEMINI_MODEL,
        *,
        base_url: str | None = None,
        timeouts: GeminiTimeouts | None = None,
        retry: RetryPolicy | None = None,
        should_stop: StopCheck | None = None,
    ) -> None:
        super().__init__(retry or RetryPolicy(), should_stop)
        self.model = model
        self._base_url = base_url
        self._timeouts = timeouts or GeminiTimeouts()
        # the SDK would retry on its own only with retry_options set: retries stay ours
        self._client = genai.Client(
            api_key=api_key,
            vertexai=False,  # the Files API exists only on the Gemini Developer API
            http_options=types.HttpOptions(
                base_url=base_url, timeout=int(self._timeouts.request_seconds * 1000)
            ),
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> GeminiProvider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # understanding

    def understand(self, media: MediaContext) -> list[Segment]:
        progress = _ProgressReporter(media, min(1.0, self._timeouts.poll_interval_seconds))
        uploaded = self._with_retry(lambda: self._upload(media), progress.check)
        try:
            progress.report(0.3)
            active = self._wait_until_active(uploaded, progress.check)
            progress.report(0.5)
            segments, language = self._with_retry(
                lambda: self._segments_of(active, media), progress.check
            )
        finally:
            self._delete_quietly(uploaded)
        if media.source_language is None and language:
            media.source_language = language
        progress.report(1.0)
        return segments

    def _upload(self, media: MediaContext) -> types.File:
        options = types.HttpOptions(
            base_url=self._base_url, timeout=int(self._timeouts.upload_chunk_seconds * 1000)
        )
        config = types.UploadFileConfig(
            mime_type=media.mime, display_name=media.video_path.name, http_options=options
        )
        # a path makes the SDK stream the file in chunks instead of reading it whole
        return self._call(
            lambda: self._client.files.upload(file=media.video_path, config=config),
            "uploading the video",
        )

    def _wait_until_active(self, uploaded: types.File, should_stop: StopCheck) -> types.File:
        deadline = time.monotonic() + self._timeouts.processing_seconds
        name = uploaded.name or ""
        while True:
            current = self._with_retry(
                lambda: self._call(
                    lambda: self._client.files.get(name=name),
                    "checking the uploaded video",
                    not_found="Gemini no longer has the uploaded video; try again.",
                ),
                should_stop,
            )
            if current.state == types.FileState.ACTIVE:
                return current
            if current.state == types.FileState.FAILED:
                reason = current.error.message if current.error and current.error.message else ""
                raise ProviderError(
                    "Gemini could not process the video"
                    + (f" ({reason.rstrip('.')})" if reason else "")
                    + ". Check that it plays, or convert it to MP4 (H.264 and AAC) and try again."
                )
            if time.monotonic() >= deadline:
                raise ProviderError(
                    f"Gemini was still processing the uploaded video after "
                    f"{self._timeouts.processing_seconds:g} seconds; try again later.",
                    transient=True,
                )
            wait_or_stop(self._timeouts.poll_interval_seconds, should_stop)

    def _segments_of(
        self, uploaded: types.File, media: MediaContext
    ) -> tuple[list[Segment], str | None]:
        video = types.Part.from_uri(file_uri=uploaded.uri or "", mime_type=media.mime)
        ask_language = media.source_language is None
        payload = self._generate(
            [video, understanding_prompt(media.duration, media.source_language)],
            understanding_schema(ask_language),
            "understanding the video",
            long_video=media.duration > _LONG_VIDEO_SECONDS,
        )
        try:
            return segments_from_payload(payload, media.duration), language_from_payload(payload)
        except ResponseShapeError as error:
            raise self._unreadable(error) from error

    def _delete_quietly(self, uploaded: types.File) -> None:
        try:
            self._client.files.delete(name=uploaded.name or "")
        except Exception:  # Gemini deletes files after 48 hours anyway
            logger.warning(
                "could not delete the uploaded video %s from Gemini", uploaded.name, exc_info=True
            )

    # generation

    def _generate_json(self, prompt: str, schema: dict[str, Any], what: str) -> Any:
        return self._generate([prompt], schema, what)

    def _generate(
        self, contents: list[Any], schema: dict[str, Any], what: str, *, long_video: bool = False
    ) -> Any:
        config = types.GenerateContentConfig(
            response_mime_type="application/json",
            response_schema=schema,
            temperature=0.2,
            media_resolution=types.MediaResolution.MEDIA_RESOLUTION_LOW if long_video else None,
        )
        response = self._call(
            lambda: self._client.models.generate_content(
                model=self.model, contents=contents, config=config
            ),
            what,
        )
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason is not None:
            raise ProviderError(
                f"Gemini refused the request while {what} "
                f"(reason: {feedback.block_reason.value.lower()})."
            )
        candidate = response.candidates[0] if response.candidates else None
        finish = candidate.finish_reason.value if candidate and candidate.finish_reason else ""
        try:
            if finish in _REFUSALS:
                raise ProviderError(
                    f"Gemini stopped its answer while {what} (reason: {finish.lower()})."
                )
            if finish == "MAX_TOKENS":
                raise ResponseShapeError("the answer was cut off at the output limit")
            return loads_model_json(response.text or "")
        except ResponseShapeError as error:
            raise self._unreadable(error) from error

    def _call(self, call: Callable[[], T], what: str, not_found: str | None = None) -> T:
        """Run one SDK call; `not_found` is the sentence for a 404 (default: unknown model)."""
        try:
            return call()
        except genai_errors.APIError as error:
            raise self._api_error(error, what, not_found) from error
        except _TIMEOUT_ERRORS as error:
            raise TransientProviderError(f"Gemini did not answer in time while {what}.") from error
        except _CONNECTION_ERRORS as error:
            raise TransientProviderError(
                f"Reeldocs lost its connection to Gemini while {what}."
            ) from error
        except (ValueError, KeyError) as error:  # a body that is not JSON, or not as expected
            raise self._unreadable(ResponseShapeError(str(error).rstrip("."))) from error

    def _api_error(
        self, error: genai_errors.APIError, what: str, not_found: str | None
    ) -> ProviderError:
        code = error.code or 0
        detail = (error.message or error.status or "no details").rstrip(".")
        reasons = json.dumps(error.details or {})
        if code == 429:
            return TransientProviderError(
                f"Gemini is rate-limiting Reeldocs (too many requests or quota used up) "
                f"while {what}."
            )
        if code == 408 or code >= 500:
            return TransientProviderError(
                f"Gemini had a temporary problem (HTTP {code}) while {what}."
            )
        key_refused = code == 401 or (code == 403 and "key" in reasons.lower())
        if "API_KEY_INVALID" in reasons or key_refused:
            return ProviderError("Gemini refused the API key: check GEMINI_API_KEY.")
        if code == 403:
            return ProviderError(
                f"Gemini refused access while {what} ({detail}): check that GEMINI_API_KEY "
                f"may use the model {self.model}."
            )
        if code == 404 and not_found:
            return ProviderError(not_found)
        if code == 404:
            return ProviderError(
                f"Gemini does not offer the model {self.model}: check REELDOCS_GEMINI_MODEL."
            )
        if code == 413:
            return ProviderError("The video is too large for Gemini, which takes files up to 2 GB.")
        return ProviderError(f"Gemini rejected the request while {what}: {detail}.")


class _ProgressReporter:
    """Reports understanding progress as a share of the video's duration.

    The pipeline's progress callback raises Cancelled when the job must stop, so
    re-reporting the last value doubles as the cancellation check while waiting;
    it is throttled because waits check many times a second.
    """

    def __init__(self, media: MediaContext, check_interval: float) -> None:
        self._media = media
        self._check_interval = check_interval
        self._done = 0.0
        self._last_call = -math.inf

    def report(self, share: float) -> None:
        self._done = max(self._done, share * self._media.duration)
        self._last_call = time.monotonic()
        self._media.progress(self._done, self._media.duration)

    def check(self) -> bool:
        if time.monotonic() - self._last_call >= self._check_interval:
            self._last_call = time.monotonic()
            self._media.progress(self._done, self._media.duration)
        return False
