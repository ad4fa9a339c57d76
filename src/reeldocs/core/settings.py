"""Settings read from the environment, with exactly the names listed in API.md."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

import platformdirs

DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 * 1024 * 1024


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}.")


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {value!r}.") from None


def _env_public_url(name: str) -> str | None:
    value = _env(name)
    if value is None:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(
            f"{name} must be the address users reach Reeldocs at, such as "
            f"https://docs.example.com, not {value!r}."
        )
    if parsed.query or parsed.fragment:
        raise ValueError(f"{name} must not have a query or a fragment: {value!r}.")
    return value.rstrip("/")


def _env_proxies(name: str) -> tuple[str, ...]:
    """Addresses or networks (`10.0.0.5`, `10.0.0.0/8`, `::1`), separated by commas or spaces."""
    value = _env(name) or ""
    proxies = tuple(item for item in value.replace(",", " ").split() if item)
    for item in proxies:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(
                f"{name} must list IP addresses or networks (such as 127.0.0.1 or "
                f"10.0.0.0/8), separated by commas; {item!r} is neither."
            ) from None
    return proxies


def _env_seconds(name: str, default: float) -> float:
    value = _env(name)
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {value!r}.") from None
    if not seconds > 0:
        raise ValueError(f"{name} must be more than 0 seconds, not {value!r}.")
    return seconds


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str | None
    storage_url: str
    secret_key: str
    host: str
    port: int
    max_upload_bytes: int
    allow_signup: bool
    provider: str
    gemini_api_key: str | None
    gemini_model: str
    openai_base_url: str | None
    openai_model: str | None
    openai_api_key: str | None
    whisper_model_path: str | None
    s3_endpoint_url: str | None
    gemini_base_url: str | None = None
    job_max_attempts: int = 3
    argos_packages_dir: str | None = None
    # Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed.
    trusted_proxies: tuple[str, ...] = ()
    # Per client address: failed log-ins in 15 minutes, sign-ups in an hour (0: no limit).
    login_failures_per_address: int = 30
    signups_per_hour: int = 10
    # the speech model: a faster-whisper name or a folder; None means the default, tiny.en
    whisper_model: str | None = None
    # how often a worker says it is alive, and after how long silent its jobs are retaken
    heartbeat_seconds: float = 2.0
    stalled_after_seconds: float = 6.0
    # the first wait before a transient failure (storage, a provider) is tried again
    retry_backoff_seconds: float = 2.0
    # the address users reach the app at, for absolute links; None: the request's own
    public_url: str | None = None
    # how many jobs of one organisation may be processing at once (0: no cap)
    org_max_active_jobs: int = 0
    # webhooks may target loopback and private addresses (self-hosting, tests)
    webhook_allow_private: bool = False
    # when set, /metrics answers only requests bearing it
    metrics_token: str | None = None

    def base_url(self, request_base: str) -> str:
        """Where absolute links point: REELDOCS_PUBLIC_URL, else the request's address."""
        return (self.public_url or request_base).rstrip("/")

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None


def _secret_key(data_dir: Path) -> str:
    configured = _env("REELDOCS_SECRET_KEY")
    if configured:
        return configured
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    # Written with O_EXCL so two processes starting together agree on one key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def load_settings() -> Settings:
    data_dir = (
        Path(_env("REELDOCS_DATA_DIR") or platformdirs.user_data_dir("reeldocs", appauthor=False))
        .expanduser()
        .resolve()
    )
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # see core.private_files
    provider = (_env("REELDOCS_PROVIDER", "auto") or "auto").lower()
    if provider not in {"auto", "gemini", "offline", "openai"}:
        raise ValueError(
            f"REELDOCS_PROVIDER must be auto, gemini, offline or openai, not {provider!r}."
        )
    heartbeat = _env_seconds("REELDOCS_WORKER_HEARTBEAT_SECONDS", 2.0)
    stalled_after = _env_seconds("REELDOCS_WORKER_STALLED_SECONDS", 6.0)
    if stalled_after < 2 * heartbeat:
        raise ValueError(
            "REELDOCS_WORKER_STALLED_SECONDS must be at least twice "
            "REELDOCS_WORKER_HEARTBEAT_SECONDS, or a worker that is merely slow to send one "
            "heartbeat would lose its job."
        )
    org_max_active_jobs = _env_int("REELDOCS_ORG_MAX_ACTIVE_JOBS", 0)
    if org_max_active_jobs < 0:
        raise ValueError(
            "REELDOCS_ORG_MAX_ACTIVE_JOBS must be 0 (no cap) or how many jobs of one team may "
            f"be processing at once, not {org_max_active_jobs}."
        )
    return Settings(
        data_dir=data_dir,
        database_url=_env("REELDOCS_DATABASE_URL"),
        storage_url=_env("REELDOCS_STORAGE_URL") or str(data_dir / "storage"),
        secret_key=_secret_key(data_dir),
        host=_env("REELDOCS_HOST", "127.0.0.1") or "127.0.0.1",
        port=_env_int("REELDOCS_PORT", 8000),
        max_upload_bytes=_env_int("REELDOCS_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES),
        allow_signup=_env_bool("REELDOCS_ALLOW_SIGNUP", True),
        provider=provider,
        gemini_api_key=_env("GEMINI_API_KEY") or _env("REELDOCS_GEMINI_API_KEY"),
        gemini_model=_env("REELDOCS_GEMINI_MODEL", "gemini-2.5-flash") or "gemini-2.5-flash",
        openai_base_url=_env("REELDOCS_OPENAI_BASE_URL"),
        openai_model=_env("REELDOCS_OPENAI_MODEL"),
        openai_api_key=_env("REELDOCS_OPENAI_API_KEY"),
        whisper_model_path=_env("REELDOCS_WHISPER_MODEL_PATH"),
        s3_endpoint_url=_env("REELDOCS_S3_ENDPOINT_URL"),
        gemini_base_url=_env("REELDOCS_GEMINI_BASE_URL"),
        job_max_attempts=_env_int("REELDOCS_JOB_MAX_ATTEMPTS", 3),
        argos_packages_dir=_env("REELDOCS_ARGOS_PACKAGES_DIR"),
        trusted_proxies=_env_proxies("REELDOCS_TRUSTED_PROXIES"),
        public_url=_env_public_url("REELDOCS_PUBLIC_URL"),
        login_failures_per_address=_env_int("REELDOCS_LOGIN_FAILURES_PER_ADDRESS", 30),
        signups_per_hour=_env_int("REELDOCS_SIGNUPS_PER_HOUR", 10),
        whisper_model=_env("REELDOCS_WHISPER_MODEL"),
        heartbeat_seconds=heartbeat,
        stalled_after_seconds=stalled_after,
        retry_backoff_seconds=_env_seconds("REELDOCS_JOB_RETRY_BACKOFF_SECONDS", 2.0),
        org_max_active_jobs=org_max_active_jobs,
        webhook_allow_private=_env_bool("REELDOCS_WEBHOOK_ALLOW_PRIVATE", False),
        metrics_token=_env("REELDOCS_METRICS_TOKEN"),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
