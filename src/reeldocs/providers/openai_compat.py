"""Writer and Translator on any server that speaks OpenAI's chat completions: Ollama, vLLM,
llama.cpp's server and the like.

JSON mode (`response_format: json_object`) makes these servers answer with one JSON
object, but not necessarily in the shape wanted, so the schema travels in the prompt
and every answer goes through the same checks as Gemini's.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from reeldocs.providers.base import ProviderError, TransientProviderError
from reeldocs.providers.generative import (
    GenerativeDocsProvider,
    ResponseShapeError,
    loads_model_json,
)
from reeldocs.providers.retry import RetryPolicy, StopCheck

_SYSTEM_PROMPT = (
    "You write and translate product documentation from what a video says and shows. "
    "You never add facts that are not in the material you are given. "
    "You always answer with a single JSON object and nothing else."
)


class OpenAICompatibleProvider(GenerativeDocsProvider):
    """`base_url` includes the API prefix, e.g. http://127.0.0.1:11434/v1 for Ollama."""

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        timeout_seconds: float = 600.0,  # local models on CPU write slowly
        retry: RetryPolicy | None = None,
        should_stop: StopCheck | None = None,
    ) -> None:
        super().__init__(retry or RetryPolicy(), should_stop)
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.label = f"The model server at {self.base_url}"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(
            headers=headers, timeout=httpx.Timeout(timeout_seconds, connect=10.0)
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OpenAICompatibleProvider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _generate_json(self, prompt: str, schema: dict[str, Any], what: str) -> Any:
        request = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": _SYSTEM_PROMPT},
                {
                    "role": "user",
                    "content": f"{prompt}\n\nThe JSON object must follow this JSON Schema:\n"
                    f"{json.dumps(schema)}",
                },
            ],
            "response_format": {"type": "json_object"},
            "temperature": 0.2,
            "stream": False,
        }
        response = self._post(request, what)
        try:
            body = response.json()
            choice = body["choices"][0]
            content = choice["message"]["content"]
            if choice.get("finish_reason") == "length":
                raise ResponseShapeError("the answer was cut off at the output limit")
            if not isinstance(content, str):
                raise ResponseShapeError("the answer had no text")
            return loads_model_json(content)
        except (ValueError, KeyError, IndexError, TypeError) as error:
            shape_error = ResponseShapeError("its body was not a chat completion")
            raise self._unreadable(shape_error) from error
        except ResponseShapeError as error:
            raise self._unreadable(error) from error

    def _post(self, request: dict[str, Any], what: str) -> httpx.Response:
        try:
            response = self._http.post(f"{self.base_url}/chat/completions", json=request)
        except httpx.TimeoutException as error:
            raise TransientProviderError(
                f"{self.label} did not answer in time while {what}."
            ) from error
        except httpx.ConnectError as error:
            raise TransientProviderError(
                f"Reeldocs could not connect to the model server at {self.base_url} while "
                f"{what}: check that it is running and that REELDOCS_OPENAI_BASE_URL is right."
            ) from error
        except httpx.TransportError as error:
            raise TransientProviderError(
                f"Reeldocs lost its connection to the model server at {self.base_url} while {what}."
            ) from error
        if response.status_code >= 400:
            raise self._http_error(response, what)
        return response

    def _http_error(self, response: httpx.Response, what: str) -> ProviderError:
        code = response.status_code
        detail = _error_message(response)
        if code == 429:
            return TransientProviderError(f"{self.label} is rate-limiting Reeldocs while {what}.")
        if code == 408 or code >= 500:
            return TransientProviderError(
                f"{self.label} had a temporary problem (HTTP {code}) while {what}."
            )
        if code in (401, 403):
            return ProviderError(
                f"{self.label} refused the API key: check REELDOCS_OPENAI_API_KEY."
            )
        if code == 404:
            return ProviderError(
                f"{self.label} has no model {self.model!r} or no chat completions endpoint"
                f"{f' ({detail})' if detail else ''}: check REELDOCS_OPENAI_MODEL and "
                "REELDOCS_OPENAI_BASE_URL."
            )
        return ProviderError(
            f"{self.label} rejected the request while {what}"
            f"{f': {detail}' if detail else f' (HTTP {code})'}."
        )


def _error_message(response: httpx.Response) -> str:
    """The server's own words, from OpenAI's {"error": {"message"}} or Ollama's {"error": "..."}."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return response.text.strip()[:200]
    message = error.get("message") if isinstance(error, dict) else error
    return str(message or "").strip().rstrip(".")[:200]
