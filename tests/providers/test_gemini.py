"""GeminiProvider driven through the real google-genai SDK against a local fake Gemini server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reeldocs.providers.base import (
    Cancelled,
    MediaContext,
    ProviderError,
    Scene,
    Segment,
    Terminology,
    TransientProviderError,
)
from reeldocs.providers.gemini import GeminiProvider, GeminiTimeouts
from reeldocs.providers.generative import parse_model_time
from reeldocs.providers.retry import RetryPolicy, call_with_retry
from tests.providers.fake_gemini import (
    FakeGemini,
    FakeReply,
    RecordedRequest,
    api_error,
    model_json,
    model_text,
    raw,
)
from tests.support.media_factory import make_slide_video

FAST_RETRY = RetryPolicy(attempts=3, initial_delay=0.01, max_delay=0.02, total_seconds=10)
FAST_TIMEOUTS = GeminiTimeouts(
    request_seconds=1, upload_chunk_seconds=5, processing_seconds=2, poll_interval_seconds=0.01
)

SEGMENTS_ANSWER = {
    "language": "en",
    "segments": [
        # out of order, mixed time formats, one past the end, one with nothing in it
        {
            "start_time": "00:02",
            "end_time": "00:04",
            "spoken_content": "Then press Save.",
            "visual_context": "A Save button",
        },
        {
            "start_time": 0,
            "end_time": "2.0",
            "spoken_content": "Open the settings page.",
            "visual_context": "Settings page",
        },
        {
            "start_time": "09:00",
            "end_time": "09:10",
            "spoken_content": "Invented.",
            "visual_context": "",
        },
        {"start_time": "00:01", "end_time": "00:02", "spoken_content": "", "visual_context": ""},
    ],
}


@pytest.fixture(scope="module")
def slide_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gemini") / "settings-tour.mp4"
    return make_slide_video(path, ["Open settings", "Press Save"], seconds_per_slide=2.0)


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[FakeGemini]:
    with FakeGemini(api_key="test-key") as server:
        yield server


@pytest.fixture
def fake(shared_fake: FakeGemini) -> FakeGemini:
    shared_fake.reset()
    return shared_fake


@pytest.fixture(scope="module")
def provider(shared_fake: FakeGemini) -> Iterator[GeminiProvider]:
    # one client for the module: each costs ~0.15 s to build (TLS trust store)
    with GeminiProvider(
        "test-key", base_url=shared_fake.base_url, timeouts=FAST_TIMEOUTS, retry=FAST_RETRY
    ) as gemini:
        yield gemini


def media_for(
    video: Path,
    mime: str = "video/mp4",
    language: str | None = None,
    progress: list[float] | None = None,
) -> MediaContext:
    def record(done: float, total: float) -> None:
        if progress is not None:
            progress.append(done / total)

    return MediaContext(
        video_path=video,
        audio_path=None,
        duration=4.0,
        mime=mime,
        scenes=[],
        source_language=language,
        progress=record,
    )


def generation_config(body: dict[str, Any]) -> dict[str, Any]:
    return body["generationConfig"]  # type: ignore[no-any-return]


def prompt_text(body: dict[str, Any]) -> str:
    return "".join(part.get("text", "") for part in body["contents"][0]["parts"])


# --- understanding ---------------------------------------------------------------------


def test_understand_uploads_the_video_waits_for_it_and_reads_segments(
    fake: FakeGemini, provider: GeminiProvider, slide_video: Path
) -> None:
    fake.processing_polls = 2
    fake.queue_generate(model_json(SEGMENTS_ANSWER))
    progress: list[float] = []
    media = media_for(slide_video, progress=progress)

    segments = provider.understand(media)

    assert [(s.start_time, s.end_time, s.spoken_content) for s in segments] == [
        (0.0, 2.0, "Open the settings page."),
        (2.0, 4.0, "Then press Save."),
    ]
    assert segments[1].visual_context == "A Save button"
    assert media.source_language == "en"
    assert progress == sorted(progress) and progress[-1] == 1.0

    start, upload = fake.requests_to("upload_start")[0], fake.requests_to("upload_bytes")[0]
    assert start.headers["x-goog-upload-header-content-type"] == "video/mp4"
    assert start.headers["x-goog-upload-header-content-length"] == str(slide_video.stat().st_size)
    assert start.json()["file"]["display_name"] == "settings-tour.mp4"
    assert upload.headers["x-goog-upload-command"] == "upload, finalize"
    stored = next(iter(fake.files.values()))
    assert bytes(stored.content) == slide_video.read_bytes()
    assert len(fake.requests_to("get_file")) == 3  # PROCESSING, PROCESSING, ACTIVE

    body = fake.generate_bodies()[0]
    video_part = body["contents"][0]["parts"][0]["fileData"]
    assert video_part["file_uri"].endswith(stored.name)
    assert video_part["mime_type"] == "video/mp4"
    config = generation_config(body)
    assert config["responseMimeType"] == "application/json"
    assert set(config["responseSchema"]["properties"]) == {"language", "segments"}
    assert "00:04" in prompt_text(body)
    assert stored.deleted
    methods = [request.method for request in fake.requests]
    assert methods[-1] == "DELETE"


def test_understand_keeps_a_known_language_and_sends_the_real_mime_type(
    fake: FakeGemini, provider: GeminiProvider, tmp_path: Path
) -> None:
    video = make_slide_video(tmp_path / "demo.webm", ["Hola"], 2.0, codec="vp9")
    fake.queue_generate(
        model_json(
            {
                "segments": [
                    {
                        "start_time": "00:00",
                        "end_time": "00:02",
                        "spoken_content": "Hola a todos.",
                        "visual_context": "Título",
                    }
                ]
            }
        )
    )
    media = media_for(video, mime="video/webm", language="es")

    segments = provider.understand(media)

    assert [s.spoken_content for s in segments] == ["Hola a todos."]
    assert media.source_language == "es"
    assert (
        fake.requests_to("upload_start")[0].headers["x-goog-upload-header-content-type"]
        == "video/webm"
    )
    body = fake.generate_bodies()[0]
    assert "language" not in generation_config(body)["responseSchema"]["properties"]
    assert "The speech is in Spanish." in prompt_text(body)


def test_a_video_that_never_becomes_active_fails_in_time_and_is_deleted(
    fake: FakeGemini, slide_video: Path
) -> None:
    fake.processing_polls = 10**9
    timeouts = GeminiTimeouts(
        request_seconds=2,
        upload_chunk_seconds=5,
        processing_seconds=0.5,
        poll_interval_seconds=0.02,
    )
    started = time.monotonic()
    with (
        GeminiProvider(
            "test-key", base_url=fake.base_url, timeouts=timeouts, retry=FAST_RETRY
        ) as gemini,
        pytest.raises(ProviderError) as caught,
    ):
        gemini.understand(media_for(slide_video))
    assert time.monotonic() - started < 3
    assert "still processing the uploaded video after 0.5 seconds" in caught.value.message
    assert fake.requests_to("generate") == []
    assert all(stored.deleted for stored in fake.files.values())
    assert len(fake.requests_to("delete_file")) == 1


def test_a_video_gemini_cannot_process_is_a_sentence_and_is_deleted(
    fake: FakeGemini, provider: GeminiProvider, slide_video: Path
) -> None:
    fake.final_state = "FAILED"
    with pytest.raises(ProviderError) as caught:
        provider.understand(media_for(slide_video))
    assert caught.value.message.startswith("Gemini could not process the video")
    assert "convert it to MP4" in caught.value.message
    assert not caught.value.transient
    assert all(stored.deleted for stored in fake.files.values())


def test_a_server_error_while_understanding_is_retried_without_uploading_again(
    fake: FakeGemini, provider: GeminiProvider, slide_video: Path
) -> None:
    fake.queue_generate(api_error(500, "Internal error.", "INTERNAL"), model_json(SEGMENTS_ANSWER))
    assert len(provider.understand(media_for(slide_video))) == 2
    assert len(fake.requests_to("upload_start")) == 1
    assert len(fake.requests_to("generate")) == 2
    assert len(fake.requests_to("delete_file")) == 1


def test_a_failed_upload_is_started_again(
    fake: FakeGemini, provider: GeminiProvider, slide_video: Path
) -> None:
    fake.queue("upload_start", api_error(503, "Service unavailable.", "UNAVAILABLE"))
    fake.queue_generate(model_json(SEGMENTS_ANSWER))
    assert len(provider.understand(media_for(slide_video))) == 2
    assert len(fake.requests_to("upload_start")) == 2
    assert [bytes(f.content) == slide_video.read_bytes() for f in fake.files.values()] == [True]


def test_a_cancelled_job_stops_waiting_and_still_deletes_the_file(
    fake: FakeGemini, provider: GeminiProvider, slide_video: Path
) -> None:
    fake.processing_polls = 10**9
    polls_before_cancel = 3

    def progress(done: float, total: float) -> None:
        if len(fake.requests_to("get_file")) >= polls_before_cancel:
            raise Cancelled()

    media = media_for(slide_video)
    media.progress = progress
    with pytest.raises(Cancelled):
        provider.understand(media)
    assert len(fake.requests_to("get_file")) == polls_before_cancel
    assert all(stored.deleted for stored in fake.files.values())


def test_an_upload_refused_for_a_bad_key_is_a_sentence_and_not_retried(
    fake: FakeGemini, slide_video: Path
) -> None:
    with (
        GeminiProvider(
            "wrong-key", base_url=fake.base_url, timeouts=FAST_TIMEOUTS, retry=FAST_RETRY
        ) as gemini,
        pytest.raises(ProviderError) as caught,
    ):
        gemini.understand(media_for(slide_video))
    assert caught.value.message == "Gemini refused the API key: check GEMINI_API_KEY."
    assert not caught.value.transient
    assert len(fake.requests) == 1


# --- writing ---------------------------------------------------------------------------

SEGMENTS = [
    Segment(0.0, 12.0, "Open the settings page from the menu.", "Menu with Settings"),
    Segment(12.0, 30.0, "Change the theme and press Save.", "Theme dropdown, Save button"),
]
SCENES = [
    Scene(0.0, 12.0, "videos/v1/screenshots/scene-001.jpg", "Settings"),
    Scene(12.0, 30.0, "videos/v1/screenshots/scene-002.jpg", "Theme"),
]


def test_write_asks_in_the_target_language_and_drops_invented_images_and_moments(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    fake.queue_generate(
        model_json(
            {
                "title": "Einstellungen ändern",
                "chapters": [
                    {
                        "title": "Einstellungen öffnen",
                        "sections": [
                            {
                                "title": "Menü",
                                "markdown": "Öffnen Sie das Menü [video:0:03].\n\n"
                                "![Menü](screenshots/scene-001.jpg)\n"
                                "![Erfunden](screenshots/scene-999.jpg)",
                            }
                        ],
                    },
                    {
                        "title": "Design wählen",
                        "sections": [
                            {
                                "title": "Speichern",
                                "markdown": "Wählen Sie ein Design [video:00:15] und "
                                "speichern Sie [video:45:00].\n"
                                "![Design](scene-002.jpg) ![extern](https://example.com/a.png)",
                            }
                        ],
                    },
                    {"title": "Leer", "sections": [{"title": "Nichts", "markdown": "  "}]},
                ],
            }
        )
    )

    document = provider.write(SEGMENTS, SCENES, "de", "en")

    assert document.title == "Einstellungen ändern"
    assert [chapter.title for chapter in document.chapters] == [
        "Einstellungen öffnen",
        "Design wählen",
    ]
    first, second = (chapter.sections[0].markdown for chapter in document.chapters)
    assert first == "Öffnen Sie das Menü [video:00:03].\n\n![Menü](screenshots/scene-001.jpg)"
    assert second == (
        "Wählen Sie ein Design [video:00:15] und speichern Sie .\n"
        "![Design](screenshots/scene-002.jpg)"
    )
    assert [chapter.start_time for chapter in document.chapters] == [3.0, 15.0]

    prompt = prompt_text(fake.generate_bodies()[0])
    assert "in German" in prompt and "Write everything in German" in prompt
    assert "Use only what is said or shown" in prompt
    assert "[video:MM:SS]" in prompt
    assert "screenshots/scene-001.jpg" in prompt and "screenshots/scene-002.jpg" in prompt
    assert "[00:12-00:30]" in prompt and "Change the theme and press Save." in prompt
    schema = generation_config(fake.generate_bodies()[0])["responseSchema"]
    assert schema["required"] == ["title", "chapters"]


def test_write_retries_an_answer_without_chapters(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    fake.queue_generate(
        model_json({"title": "Nothing", "chapters": []}),
        model_json(
            {
                "title": "T",
                "chapters": [
                    {
                        "title": "C",
                        "sections": [{"title": "S", "markdown": "Open it [video:00:01]."}],
                    }
                ],
            }
        ),
    )
    assert provider.write(SEGMENTS, [], "en", "en").chapters[0].title == "C"
    assert "There are no screenshots" in prompt_text(fake.generate_bodies()[0])


# --- translating -----------------------------------------------------------------------

SOURCE_MD = """## Change the theme

1. Open **Settings** [video:00:12].
2. Run `theme --dark` and read [the guide](https://example.com/guide).

```
theme --dark
```
"""

SPANISH_MD = """## Cambiar el tema

1. Abra **Settings** [video:00:12].
2. Ejecute `theme --dark` y lea [la guía](https://example.com/guide).

```
theme --dark
```
"""


def test_translate_markdown_keeps_structure_and_checks_the_result(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    broken = SPANISH_MD.replace(" [video:00:12]", "")
    fake.queue_generate(
        model_json({"markdown": broken}), model_json({"markdown": SPANISH_MD.rstrip("\n")})
    )

    assert provider.translate_markdown(SOURCE_MD, "en", "es") == SPANISH_MD
    bodies = fake.generate_bodies()
    assert len(bodies) == 2  # the first answer lost a video reference
    prompt = prompt_text(bodies[0])
    assert "from English into Spanish" in prompt and SOURCE_MD in prompt
    assert "[video:MM:SS] references" in prompt


TERMS_MD = """## Open Acme Uploader

Open Acme Uploader and the dashboard, click "Open Settings" then **Save** [video:00:03].
Questions go to help@acme.example.
"""
TERMS_SPANISH_MD = """## Abra Acme Uploader

Abra Acme Uploader y el tablero, pulse "Open Settings" y luego **Save** [video:00:03].
Las preguntas van a help@acme.example.
"""
GLOSSARY = Terminology(
    keep=frozenset({"Acme Uploader", "project board"}), forced={"dashboard": "tablero"}
)


@pytest.mark.parametrize(
    ("good_part", "broken", "problem"),
    [
        ("Abra Acme", "Abra Acmé", "dropped or changed 'Acme Uploader'"),
        ('"Open Settings"', '"Abrir ajustes"', "dropped or changed '\"Open Settings\"'"),
        ("el tablero", "el panel", "does not use the glossary's translation 'tablero' for"),
        ("help@acme", "ayuda@acme", "address 'help@acme.example'"),
    ],
)
def test_translate_markdown_names_the_terms_and_retries_an_answer_that_breaks_one(
    fake: FakeGemini, provider: GeminiProvider, good_part: str, broken: str, problem: str
) -> None:
    fake.queue_generate(
        model_json({"markdown": TERMS_SPANISH_MD.replace(good_part, broken)}),
        model_json({"markdown": TERMS_SPANISH_MD}),
    )

    assert provider.translate_markdown(TERMS_MD, "en", "es", terms=GLOSSARY) == TERMS_SPANISH_MD
    bodies = fake.generate_bodies()
    assert len(bodies) == 2  # the first answer broke a term
    prompt = prompt_text(bodies[0])
    assert (
        "These names and interface labels stay exactly as written, untranslated, with their "
        'quotes or ** marks: "Acme Uploader", "\\"Open Settings\\"", "**Save**".'
    ) in prompt
    assert (
        'Translate these terms exactly as the project\'s glossary says: "dashboard" → '
        '"tablero".' in prompt
    )
    assert "project board" not in prompt  # a term of the glossary this document does not use
    assert prompt.endswith("Document:\n" + TERMS_MD)

    fake.reset()
    fake.generate_responder = lambda request: model_json(
        {"markdown": TERMS_SPANISH_MD.replace(good_part, broken)}
    )
    with pytest.raises(ProviderError) as caught:
        provider.translate_markdown(TERMS_MD, "en", "es", terms=GLOSSARY)
    assert not caught.value.transient
    assert caught.value.message.startswith("The Spanish translation from Gemini was not usable.")
    assert problem in caught.value.message


def test_translate_lines_keep_terms_and_retry_a_line_that_drops_one(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    lines = ["Open Acme Uploader.", "", "Ask help@acme.example about the dashboard."]
    good = ["Abra Acme Uploader.", "", "Pregunte a help@acme.example por el tablero."]
    fake.queue_generate(
        model_json({"lines": ["Abra Acmé Uploader.", *good[1:]]}), model_json({"lines": good})
    )
    assert provider.translate_lines(lines, "en", "es", terms=GLOSSARY) == good
    assert len(fake.requests_to("generate")) == 2
    prompt = prompt_text(fake.generate_bodies()[0])
    assert 'untranslated, with their quotes or ** marks: "Acme Uploader".' in prompt
    assert '"dashboard" → "tablero"' in prompt
    assert json.loads(prompt.rsplit("\n", 1)[1]) == lines  # the lines stay the last line

    fake.reset()
    fake.generate_responder = lambda request: model_json({"lines": ["Abra Acmé.", *good[1:]]})
    with pytest.raises(ProviderError) as caught:
        provider.translate_lines(lines, "en", "es", terms=GLOSSARY)
    assert not caught.value.transient
    assert caught.value.message.startswith(
        "The Spanish subtitles from Gemini were not usable. The translation dropped or changed "
        "'Acme Uploader', which must stay as written."
    )


def test_an_untranslated_answer_fails_after_the_retries(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    fake.generate_responder = lambda request: model_json({"markdown": SOURCE_MD})
    with pytest.raises(ProviderError) as caught:
        provider.translate_markdown(SOURCE_MD, "en", "fr")
    # the model answered every time: retrying the pipeline step would repeat the same calls
    assert not caught.value.transient
    assert caught.value.message.startswith("The French translation from Gemini was not usable.")
    assert "gave up after 3 attempts" in caught.value.message
    assert len(fake.requests_to("generate")) == 3


def _upper_lines(request: RecordedRequest) -> FakeReply:
    lines = json.loads(prompt_text(request.json()).rsplit("\n", 1)[-1])
    return model_json({"lines": [line.upper() for line in lines]})


def test_translate_lines_one_for_one_in_batches(fake: FakeGemini, provider: GeminiProvider) -> None:
    lines = [f"line {number}" for number in range(150)] + [""]
    fake.generate_responder = _upper_lines

    assert provider.translate_lines(lines, "en", "de") == [line.upper() for line in lines]
    bodies = fake.generate_bodies()
    assert len(bodies) == 2
    schema = generation_config(bodies[0])["responseSchema"]["properties"]["lines"]
    assert (schema["min_items"], schema["max_items"]) == (100, 100)
    assert "Translate these 51 subtitle lines from English into German" in prompt_text(bodies[1])


def test_translate_lines_retries_an_answer_of_the_wrong_length(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    fake.queue_generate(model_json({"lines": ["EINS"]}), model_json({"lines": ["Eins", "Zwei"]}))
    assert provider.translate_lines(["One", "Two"], "en", "de") == ["Eins", "Zwei"]
    assert len(fake.requests_to("generate")) == 2


# --- errors ------------------------------------------------------------------------------

GOOD_LINES = model_json({"lines": ["Hola"]})


@pytest.mark.parametrize(
    "failure",
    [
        api_error(429, "Resource has been exhausted.", "RESOURCE_EXHAUSTED"),
        api_error(500, "Internal error.", "INTERNAL"),
        api_error(503, "The model is overloaded.", "UNAVAILABLE"),
        model_text('{"lines": ["Ho'),  # truncated JSON from the model
        model_text('{"lines": ["Hola"]}', finish_reason="MAX_TOKENS"),
        model_text("Sure! Here is the translation: Hola"),  # not JSON at all
        model_json({"translation": "Hola"}),  # valid JSON, wrong shape
        raw(b'{"candidates": [{"content": {"parts": [{"te'),  # the HTTP body itself cut off
        FakeReply(drop_connection=True),
        FakeReply(delay_seconds=2.5, body=b"{}"),  # longer than the 1 s request timeout
    ],
    ids=[
        "429",
        "500",
        "503",
        "truncated-json",
        "max-tokens",
        "prose",
        "wrong-shape",
        "truncated-body",
        "connection-reset",
        "timeout",
    ],
)
def test_a_passing_failure_is_retried_then_succeeds(
    fake: FakeGemini, provider: GeminiProvider, failure: FakeReply
) -> None:
    fake.queue_generate(failure, GOOD_LINES)
    assert provider.translate_lines(["Hello"], "en", "es") == ["Hola"]
    assert len(fake.requests_to("generate")) == 2


def test_a_persistent_server_error_gives_up_after_the_cap(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    fake.generate_responder = lambda request: api_error(500, "Internal error.", "INTERNAL")
    with pytest.raises(ProviderError) as caught:
        provider.translate_lines(["Hello"], "en", "es")
    assert not isinstance(caught.value, TransientProviderError) and caught.value.transient
    assert caught.value.message == (
        "Gemini had a temporary problem (HTTP 500) while translating subtitles into Spanish. "
        "Reeldocs gave up after 3 attempts."
    )
    assert len(fake.requests_to("generate")) == 3


def test_an_unreadable_answer_says_so_after_the_cap(
    fake: FakeGemini, provider: GeminiProvider
) -> None:
    fake.generate_responder = lambda request: model_text("{not json")
    with pytest.raises(ProviderError) as caught:
        provider.translate_lines(["Hello"], "en", "es")
    assert caught.value.message.startswith("Gemini returned a response Reeldocs could not read")


@pytest.mark.parametrize(
    ("refusal", "sentence"),
    [
        (
            api_error(
                400,
                "API key not valid. Please pass a valid API key.",
                "INVALID_ARGUMENT",
                reason="API_KEY_INVALID",
            ),
            "Gemini refused the API key: check GEMINI_API_KEY.",
        ),
        (
            api_error(
                403,
                "Method doesn't allow unregistered callers. Please use an API key.",
                "PERMISSION_DENIED",
            ),
            "Gemini refused the API key: check GEMINI_API_KEY.",
        ),
        (
            api_error(404, "models/gemini-9 is not found for API version v1.", "NOT_FOUND"),
            "Gemini does not offer the model gemini-2.5-flash: check REELDOCS_GEMINI_MODEL.",
        ),
        (
            api_error(400, "Request contains an invalid argument.", "INVALID_ARGUMENT"),
            "Gemini rejected the request while translating subtitles into Spanish: "
            "Request contains an invalid argument.",
        ),
        (
            model_text("", finish_reason="SAFETY"),
            "Gemini stopped its answer while translating subtitles into Spanish (reason: safety).",
        ),
    ],
    ids=["invalid-key", "permission-denied", "unknown-model", "bad-request", "safety"],
)
def test_a_refusal_is_a_sentence_and_is_not_retried(
    fake: FakeGemini, provider: GeminiProvider, refusal: FakeReply, sentence: str
) -> None:
    fake.queue_generate(refusal, GOOD_LINES)
    with pytest.raises(ProviderError) as caught:
        provider.translate_lines(["Hello"], "en", "es")
    assert caught.value.message == sentence
    assert not caught.value.transient
    assert len(fake.requests_to("generate")) == 1


def test_a_bad_key_reaches_the_server_as_sent(fake: FakeGemini) -> None:
    with (
        GeminiProvider(
            "wrong-key", base_url=fake.base_url, timeouts=FAST_TIMEOUTS, retry=FAST_RETRY
        ) as gemini,
        pytest.raises(ProviderError) as caught,
    ):
        gemini.translate_markdown(SOURCE_MD, "en", "es")
    assert caught.value.message == "Gemini refused the API key: check GEMINI_API_KEY."
    assert [r.headers["x-goog-api-key"] for r in fake.requests] == ["wrong-key"]


# --- small pieces ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (75, 75.0),
        (12.5, 12.5),
        ("75.5", 75.5),
        ("12s", 12.0),
        ("01:15", 75.0),
        ("1:01:15", 3675.0),
        ("[02:03]", 123.0),
        ("00:07,5", 7.5),
        ("1:75", None),
        ("soon", None),
        (-3, None),
        (True, None),
        (None, None),
        ("nan", None),
    ],
)
def test_model_times_are_read_in_every_form_models_use(
    value: object, seconds: float | None
) -> None:
    assert parse_model_time(value) == seconds


def test_targets_and_languages_are_a_fixed_list() -> None:
    with GeminiProvider("k", base_url="http://127.0.0.1:9") as gemini:
        assert {"en", "es", "fr", "de", "ca", "gl", "eo", "ja", "zh"} <= set(gemini.languages())
        assert "es" not in gemini.targets("es") and "en" in gemini.targets("es")


def test_retry_backs_off_within_the_cap_and_stops_when_asked() -> None:
    policy = RetryPolicy(attempts=5, initial_delay=1.0, max_delay=4.0)
    assert all(0.5 <= policy.delay_before(1) <= 1.0 for _ in range(50))
    assert all(2.0 <= policy.delay_before(5) <= 4.0 for _ in range(50))

    def failing() -> None:
        raise TransientProviderError("Gemini is busy.")

    stops = iter([False, True])
    started = time.monotonic()
    with pytest.raises(Cancelled):
        call_with_retry(
            failing, RetryPolicy(attempts=5, initial_delay=10.0), should_stop=lambda: next(stops)
        )
    assert time.monotonic() - started < 1.0

    slow = RetryPolicy(attempts=100, initial_delay=0.05, max_delay=0.05, total_seconds=0.2)
    with pytest.raises(ProviderError, match="Reeldocs gave up after"):
        call_with_retry(failing, slow)
    assert time.monotonic() - started < 2.0
