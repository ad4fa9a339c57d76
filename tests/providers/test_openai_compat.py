"""OpenAICompatibleProvider against a local server that speaks chat completions."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator

import pytest

from reeldocs.providers.base import ProviderError, Scene, Segment, Terminology
from reeldocs.providers.markdown_text import translate_markdown_runs
from reeldocs.providers.openai_compat import OpenAICompatibleProvider
from reeldocs.providers.retry import RetryPolicy
from tests.providers.fake_gemini import FakeReply, RecordedRequest, json_reply
from tests.providers.fake_openai import FakeOpenAI, chat_answer, chat_json, openai_error

FAST_RETRY = RetryPolicy(attempts=3, initial_delay=0.01, max_delay=0.02, total_seconds=10)

SEGMENTS = [
    Segment(0.0, 10.0, "Open the settings page.", "Settings menu"),
    Segment(10.0, 20.0, "Pick a theme and press Save.", "Theme picker"),
]
SCENES = [Scene(0.0, 10.0, "screenshots/scene-001.jpg"), Scene(10.0, 20.0, None)]

DOCUMENT = {
    "title": "Réglages",
    "chapters": [
        {
            "title": "Changer le thème",
            "sections": [
                {
                    "title": "Enregistrer",
                    "markdown": "Ouvrez les réglages [video:00:02].\n\n"
                    "![Menu](screenshots/scene-001.jpg)\n"
                    "![Inventé](screenshots/made-up.png)",
                }
            ],
        }
    ],
}


@pytest.fixture(scope="module")
def shared_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key="test-key") as fake:
        yield fake


@pytest.fixture
def server(shared_server: FakeOpenAI) -> FakeOpenAI:
    shared_server.reset()
    return shared_server


@pytest.fixture(scope="module")
def provider(shared_server: FakeOpenAI) -> Iterator[OpenAICompatibleProvider]:
    with OpenAICompatibleProvider(
        shared_server.base_url + "/", "llama3.1", "test-key", timeout_seconds=1, retry=FAST_RETRY
    ) as openai:
        yield openai


def user_prompt(body: dict[str, object]) -> str:
    messages = body["messages"]
    assert isinstance(messages, list)
    return str(messages[-1]["content"])


def test_write_sends_json_mode_with_the_schema_and_checks_the_answer(
    server: FakeOpenAI, provider: OpenAICompatibleProvider
) -> None:
    server.queue_chat(chat_json(DOCUMENT))

    document = provider.write(SEGMENTS, SCENES, "fr", "en")

    assert document.title == "Réglages"
    assert document.chapters[0].sections[0].markdown == (
        "Ouvrez les réglages [video:00:02].\n\n![Menu](screenshots/scene-001.jpg)"
    )
    request = server.requests_to("chat")[0]
    assert request.headers["authorization"] == "Bearer test-key"
    body = request.json()
    assert body["model"] == "llama3.1"
    assert body["response_format"] == {"type": "json_object"}
    assert [message["role"] for message in body["messages"]] == ["system", "user"]
    prompt = user_prompt(body)
    assert "Write everything in French" in prompt
    assert "[00:10-00:20]" in prompt and "Pick a theme and press Save." in prompt
    schema = json.loads(prompt.rsplit("JSON Schema:\n", 1)[1])
    assert schema["required"] == ["title", "chapters"]


def test_translations_of_documents_and_subtitle_lines(
    server: FakeOpenAI, provider: OpenAICompatibleProvider
) -> None:
    source = "## Save\n\nPress **Save** [video:00:05] and run `save --all`.\n"
    # The bold label is what the screen shows: it stays as it is.
    spanish = "## Guardar\n\nPulse **Save** [video:00:05] y ejecute `save --all`.\n"
    server.queue_chat(
        chat_answer(f"```json\n{json.dumps({'markdown': spanish})}\n```"),  # fenced: accepted
        chat_json({"lines": ["Hola", "", "Adiós"]}),
    )
    assert provider.translate_markdown(source, "en", "es") == spanish
    assert provider.translate_lines(["Hello", "", "Goodbye"], "en", "es") == ["Hola", "", "Adiós"]
    assert "from English into Spanish" in user_prompt(server.chat_bodies()[0])
    assert '["Hello", "", "Goodbye"]' in user_prompt(server.chat_bodies()[1])


@pytest.mark.parametrize(
    "failure",
    [
        openai_error(429, "Rate limit reached.", "rate_limit_error"),
        openai_error(503, "Model is loading.", "server_error"),
        chat_answer('{"lines": ["Hol'),  # malformed JSON content
        chat_answer('{"lines": ["Hola"]}', finish_reason="length"),
        chat_json({"translations": ["Hola"]}),  # JSON of the wrong shape
        json_reply({"object": "error"}),  # a body that is no chat completion
        FakeReply(drop_connection=True),
        FakeReply(delay_seconds=2.0, body=b"{}"),  # longer than the 1 s timeout
    ],
    ids=[
        "429",
        "503",
        "malformed-json",
        "cut-off",
        "wrong-shape",
        "not-a-completion",
        "connection-reset",
        "timeout",
    ],
)
def test_a_passing_failure_is_retried_then_succeeds(
    server: FakeOpenAI, provider: OpenAICompatibleProvider, failure: FakeReply
) -> None:
    server.queue_chat(failure, chat_json({"lines": ["Hola"]}))
    assert provider.translate_lines(["Hello"], "en", "es") == ["Hola"]
    assert len(server.requests_to("chat")) == 2


def test_a_malformed_answer_every_time_is_a_sentence_after_the_cap(
    server: FakeOpenAI, provider: OpenAICompatibleProvider
) -> None:
    server.chat_responder = lambda request: chat_answer("I cannot answer in JSON.")
    with pytest.raises(ProviderError) as caught:
        provider.translate_lines(["Hello"], "en", "es")
    assert caught.value.transient
    assert caught.value.message.startswith(
        f"The model server at {server.base_url} returned a response Reeldocs could not read"
    )
    assert caught.value.message.endswith("Reeldocs gave up after 3 attempts.")
    assert len(server.requests_to("chat")) == 3


@pytest.mark.parametrize(
    ("refusal", "sentence"),
    [
        (
            openai_error(
                401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
            ),
            "The model server at {url} refused the API key: check REELDOCS_OPENAI_API_KEY.",
        ),
        (
            json_reply({"error": 'model "llama3.1" not found, try pulling it first'}, status=404),
            "The model server at {url} has no model 'llama3.1' or no chat completions endpoint "
            '(model "llama3.1" not found, try pulling it first): check REELDOCS_OPENAI_MODEL and '
            "REELDOCS_OPENAI_BASE_URL.",
        ),
        (
            openai_error(
                400, "This model's maximum context length is 8192 tokens.", "invalid_request_error"
            ),
            "The model server at {url} rejected the request while translating subtitles into "
            "Spanish: This model's maximum context length is 8192 tokens.",
        ),
    ],
    ids=["bad-key", "unknown-model", "context-too-long"],
)
def test_a_refusal_is_a_sentence_and_is_not_retried(
    server: FakeOpenAI, provider: OpenAICompatibleProvider, refusal: FakeReply, sentence: str
) -> None:
    server.queue_chat(refusal, chat_json({"lines": ["Hola"]}))
    with pytest.raises(ProviderError) as caught:
        provider.translate_lines(["Hello"], "en", "es")
    assert caught.value.message == sentence.format(url=server.base_url)
    assert not caught.value.transient
    assert len(server.requests_to("chat")) == 1


def test_the_server_checks_the_key_the_provider_sends(server: FakeOpenAI) -> None:
    with (
        OpenAICompatibleProvider(
            server.base_url, "llama3.1", "wrong-key", retry=FAST_RETRY
        ) as openai,
        pytest.raises(ProviderError) as c,
    ):
        openai.translate_lines(["Hello"], "en", "es")
    assert "refused the API key" in c.value.message
    assert server.requests[0].headers["authorization"] == "Bearer wrong-key"


def test_without_a_key_no_authorization_header_is_sent() -> None:
    def echo(request: RecordedRequest) -> FakeReply:
        return chat_json({"lines": ["Hola"]})

    with FakeOpenAI(api_key=None) as ollama:
        ollama.chat_responder = echo
        with OpenAICompatibleProvider(ollama.base_url, "llama3.1", retry=FAST_RETRY) as openai:
            assert openai.translate_lines(["Hello"], "en", "es") == ["Hola"]
        assert "authorization" not in ollama.requests[0].headers


def test_a_server_that_is_not_running_is_named_in_the_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free, and nothing listens once it is closed
    base_url = f"http://127.0.0.1:{port}/v1"
    with OpenAICompatibleProvider(base_url, "llama3.1", retry=FAST_RETRY) as openai:
        with pytest.raises(ProviderError) as caught:
            openai.translate_markdown("Hello there.", "en", "es")
    assert caught.value.transient
    assert caught.value.message == (
        f"Reeldocs could not connect to the model server at {base_url} while translating the "
        "documentation into Spanish: check that it is running and that REELDOCS_OPENAI_BASE_URL "
        "is right. Reeldocs gave up after 3 attempts."
    )


# --- names, labels and the glossary --------------------------------------------------------

GLOSSARY = Terminology(keep=frozenset({"Acme Uploader"}), forced={"dashboard": "tablero"})


def _named_in(prompt: str) -> tuple[list[str], dict[str, str]]:
    """What the prompt tells the model to keep and how to translate glossary terms."""
    kept = re.search(r"with their quotes or \*\* marks: (.*)\.\n", prompt)
    pairs = re.search(r"glossary says: (.*)\.\n", prompt)
    return (
        json.loads(f"[{kept.group(1)}]") if kept else [],
        dict(
            (json.loads(term), json.loads(said))
            for term, said in re.findall(r'("(?:[^"\\]|\\.)*") → ("(?:[^"\\]|\\.)*")', pairs[1])
        )
        if pairs
        else {},
    )


def obedient_model(request: RecordedRequest) -> FakeReply:
    """A model that reverses every word except addresses (the prompts' general rule) and
    what the prompt names to keep, and uses the glossary's translations: the translation is
    right exactly when the prompt is."""
    prompt = user_prompt(request.json()).split("\n\nThe JSON object must follow", 1)[0]
    kept, forced = _named_in(prompt)
    protected = [re.escape(term) for term in sorted([*kept, *forced], key=len, reverse=True)]
    pattern = re.compile("|".join([*protected, r"\S+@\S+\w", r"\S+://\S+"]))

    def translate(text: str) -> str:
        out, position = [], 0
        for match in pattern.finditer(text):
            out += [re.sub(r"\w+", lambda w: w.group(0)[::-1], text[position : match.start()])]
            out += [forced.get(match.group(0), match.group(0))]
            position = match.end()
        return "".join([*out, re.sub(r"\w+", lambda w: w.group(0)[::-1], text[position:])])

    if prompt.startswith("Translate this Markdown document"):
        markdown = prompt.split("\nDocument:\n", 1)[1]
        return chat_json(
            {
                "markdown": translate_markdown_runs(
                    markdown, lambda runs: [translate(run) for run in runs]
                )
            }
        )
    lines = json.loads(prompt.rsplit("\n", 1)[1])
    return chat_json({"lines": [translate(line) for line in lines]})


def test_the_terms_named_in_the_prompt_come_back_byte_for_byte(
    server: FakeOpenAI, provider: OpenAICompatibleProvider
) -> None:
    server.chat_responder = obedient_model
    source = (
        "# Open Acme Uploader\n\nOpen the dashboard, press “Save” or **Export** and run "
        "`acme sync` [video:00:04].\n"
    )
    translated = provider.translate_markdown(source, "en", "es", terms=GLOSSARY)
    assert translated == (
        "# nepO Acme Uploader\n\nnepO eht tablero, sserp “Save” ro **Export** dna nur "
        "`acme sync` [video:00:04].\n"
    )
    lines = ["Open Acme Uploader.", "Mail help@acme.example about the dashboard."]
    assert provider.translate_lines(lines, "en", "es", terms=GLOSSARY) == [
        "nepO Acme Uploader.",
        "liaM help@acme.example tuoba eht tablero.",
    ]
    assert len(server.requests_to("chat")) == 2


def test_a_model_that_ignores_the_terms_fails_with_a_sentence(
    server: FakeOpenAI, provider: OpenAICompatibleProvider
) -> None:
    server.chat_responder = lambda request: chat_json({"markdown": "# Abra Acmé Uploader\n"})
    with pytest.raises(ProviderError) as caught:
        provider.translate_markdown("# Open Acme Uploader\n", "en", "es", terms=GLOSSARY)
    assert caught.value.message == (
        "The Spanish translation from The model server at "
        f"{server.base_url} was not usable. The translation dropped or changed "
        "'Acme Uploader', which must stay as written. Reeldocs gave up after 3 attempts."
    )
