"""A local server that answers `POST {base}/chat/completions` like Ollama, vLLM or llama.cpp.

Tests queue answers (JSON content, errors, malformed bodies) and read back what
the provider sent.
"""

from __future__ import annotations

import json
from typing import Any

from tests.providers.fake_gemini import (
    FakeReply,
    RecordedRequest,
    Responder,
    ScriptedHttpServer,
    json_reply,
)


def chat_answer(content: str, finish_reason: str = "stop", model: str = "llama3.1") -> FakeReply:
    return json_reply(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1_790_000_000,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }
    )


def chat_json(payload: object) -> FakeReply:
    return chat_answer(json.dumps(payload))


def openai_error(status: int, message: str, kind: str, code: str | None = None) -> FakeReply:
    return json_reply({"error": {"message": message, "type": kind, "code": code}}, status=status)


class FakeOpenAI(ScriptedHttpServer):
    """`base_url` (with /v1) is what the provider is configured with."""

    routes = ("chat",)

    def __init__(self, api_key: str | None = "test-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.chat_responder: Responder | None = None

    def reset(self) -> None:
        super().reset()
        self.chat_responder = None

    @property
    def base_url(self) -> str:
        return f"{super().base_url}/v1"

    def queue_chat(self, *replies: FakeReply | Responder) -> None:
        self.queue("chat", *replies)

    def chat_bodies(self) -> list[dict[str, Any]]:
        return [request.json() for request in self.requests_to("chat")]

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> str | None:
        return "chat" if method == "POST" and path == "/v1/chat/completions" else None

    def _refusal(self, request: RecordedRequest) -> FakeReply | None:
        if self.api_key is None or request.headers.get("authorization") == f"Bearer {self.api_key}":
            return None
        return openai_error(
            401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
        )

    def _default_reply(self, request: RecordedRequest) -> FakeReply:
        if self.chat_responder is not None:
            return self.chat_responder(request)
        return openai_error(500, "The fake server has no reply scripted.", "server_error")
