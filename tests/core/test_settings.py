"""Settings read from the environment: REELDOCS_PUBLIC_URL."""

from __future__ import annotations

import pytest

from reeldocs.core.settings import load_settings


def test_the_public_address_is_used_for_links_without_its_last_slash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REELDOCS_PUBLIC_URL", "https://docs.example.com/reeldocs/")
    settings = load_settings()
    assert settings.public_url == "https://docs.example.com/reeldocs"
    assert settings.base_url("http://10.0.0.5:8000/") == "https://docs.example.com/reeldocs"


def test_without_a_public_address_links_use_the_request_s_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REELDOCS_PUBLIC_URL", raising=False)
    assert load_settings().base_url("http://10.0.0.5:8000/") == "http://10.0.0.5:8000"


@pytest.mark.parametrize(
    "value", ["docs.example.com", "ftp://docs.example.com", "https://", "https://x.org/?a=1"]
)
def test_a_public_address_that_is_not_one_is_refused_with_a_sentence(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("REELDOCS_PUBLIC_URL", value)
    with pytest.raises(ValueError, match="REELDOCS_PUBLIC_URL must"):
        load_settings()
