"""Every setting Spek reads, in one place, from the environment (or a `.env` file)."""

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(Path(".spek"), validation_alias="SPEK_DATA_DIR")
    # Unset: `spek up` starts embedded PostgreSQL / Redis under the data dir.
    database_url: str | None = Field(None, validation_alias="DATABASE_URL")
    redis_url: str | None = Field(None, validation_alias="REDIS_URL")

    host: str = Field("127.0.0.1", validation_alias="SPEK_HOST")
    port: int = Field(8000, validation_alias="SPEK_PORT")
    # Where clients reach the API (scheme, host, optional path): every link Spek gives out starts with it,
    # never with the request's Host header. Unset: http://<SPEK_HOST>:<SPEK_PORT>.
    public_url: str | None = Field(None, validation_alias="SPEK_PUBLIC_URL")
    # API processes `spek serve` runs on its one port (uvicorn workers); unset: one per core.
    api_workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, validation_alias="SPEK_API_WORKERS")

    # Unset: generated once and kept in `<data dir>/jwt-secret`.
    jwt_secret: str | None = Field(None, validation_alias="SPEK_JWT_SECRET")
    # How long audioUrl and exportTranscript links work.
    signed_url_ttl_seconds: int = Field(4 * 3600, validation_alias="SPEK_SIGNED_URL_TTL")
    access_token_ttl_seconds: int = Field(900, validation_alias="SPEK_ACCESS_TOKEN_TTL")
    refresh_token_ttl_seconds: int = Field(30 * 24 * 3600, validation_alias="SPEK_REFRESH_TOKEN_TTL")

    max_query_depth: int = Field(12, validation_alias="SPEK_MAX_QUERY_DEPTH")
    max_query_aliases: int = Field(30, validation_alias="SPEK_MAX_QUERY_ALIASES")
    max_query_tokens: int = Field(5000, validation_alias="SPEK_MAX_QUERY_TOKENS")
    # Largest GraphQL request body other than a multipart upload (whose files have limits of their own).
    max_request_bytes: int = Field(1024 * 1024, validation_alias="SPEK_MAX_REQUEST_BYTES")
    # Delete recordings' audio files this many hours after upload (transcripts and notes stay); unset: keep.
    audio_ttl_hours: float | None = Field(None, gt=0, validation_alias="SPEK_AUDIO_TTL_HOURS")
    # When set, /metrics answers only `Authorization: Bearer <this>`.
    metrics_token: SecretStr | None = Field(None, validation_alias="SPEK_METRICS_TOKEN")

    queue_name: str = Field("spek:queue", validation_alias="SPEK_QUEUE_NAME")
    worker_heartbeat_seconds: int = Field(5, validation_alias="SPEK_WORKER_HEARTBEAT_SECONDS")
    # Jobs one worker runs at once: transcription already uses every core, so more rarely helps.
    worker_jobs: int = Field(1, validation_alias="SPEK_WORKER_JOBS")
    # A killed worker's job goes back to the queue within this long.
    job_lease_seconds: float = Field(30, validation_alias="SPEK_JOB_LEASE_SECONDS")
    # Runs of one job before it fails for good (transient failures and killed workers count).
    job_max_attempts: int = Field(3, validation_alias="SPEK_JOB_MAX_ATTEMPTS")
    job_retry_backoff_seconds: float = Field(10, validation_alias="SPEK_JOB_RETRY_BACKOFF_SECONDS")
    # `spek up` restarts a child or embedded server that ends; this many ends within the window stop it all.
    restart_limit: int = Field(5, ge=1, validation_alias="SPEK_RESTART_LIMIT")
    restart_window_seconds: float = Field(120, gt=0, validation_alias="SPEK_RESTART_WINDOW_SECONDS")

    max_upload_mb: int = Field(200, validation_alias="SPEK_MAX_UPLOAD_MB")
    max_document_mb: int = Field(100, validation_alias="SPEK_MAX_DOCUMENT_MB")
    # Where files live: "local" (<data dir>/files) or "s3"; credentials from the usual AWS_* variables.
    storage: Literal["local", "s3"] = Field("local", validation_alias="SPEK_STORAGE")
    s3_bucket: str | None = Field(None, validation_alias="SPEK_S3_BUCKET")
    s3_endpoint_url: str | None = Field(None, validation_alias="SPEK_S3_ENDPOINT_URL")  # MinIO etc.; unset: AWS
    s3_region: str = Field("us-east-1", validation_alias="SPEK_S3_REGION")
    s3_prefix: str = Field("", validation_alias="SPEK_S3_PREFIX")
    # Set: stored files are encrypted (AES-256-GCM) with this key, 32 bytes in base64 or hex.
    encryption_key: SecretStr | None = Field(None, validation_alias="SPEK_ENCRYPTION_KEY")

    # A packaged model name ("base", "small"), a folder with a CTranslate2 model, or a hub name.
    whisper_model: str = Field("base", validation_alias="SPEK_WHISPER_MODEL")
    whisper_device: str = Field("auto", validation_alias="SPEK_WHISPER_DEVICE")
    # "auto": int8 on CPU, float16 on CUDA.
    whisper_compute_type: str = Field("auto", validation_alias="SPEK_WHISPER_COMPUTE_TYPE")
    whisper_cpu_threads: int = Field(0, validation_alias="SPEK_WHISPER_CPU_THREADS")

    # "campp": the offline CPU diarizer; "pyannote": pyannote.audio's pipeline (optional extra, GPU).
    diarizer: str = Field("campp", validation_alias="SPEK_DIARIZER")
    pyannote_pipeline: str = Field("pyannote/speaker-diarization-3.1", validation_alias="SPEK_PYANNOTE_PIPELINE")
    hf_token: str | None = Field(None, validation_alias="HF_TOKEN")

    # Text embeddings for search: "minilm" (English, the default), "e5-small" (multilingual), or a
    # folder with a sentence-transformers model. Both packaged models come from PyPI wheels.
    embedding_model: str = Field("minilm", validation_alias="SPEK_EMBEDDING_MODEL")

    # Notes from transcripts: an LLM writes each one after transcription.
    notes_enabled: bool = Field(True, validation_alias="SPEK_NOTES")
    # "local": llama.cpp on a GGUF model shipped in a PyPI wheel (offline); "openai": any OpenAI-compatible
    # server (Ollama, vLLM, llama.cpp server, LM Studio) at SPEK_LLM_BASE_URL; "gemini": Google Gemini.
    llm_provider: Literal["local", "openai", "gemini"] = Field("local", validation_alias="SPEK_LLM_PROVIDER")
    # local: "qwen2.5-0.5b", "smollm2-135m" or a .gguf path; openai / gemini: the model name.
    llm_model: str = Field("qwen2.5-0.5b", validation_alias="SPEK_LLM_MODEL")
    llm_base_url: str | None = Field(None, validation_alias="SPEK_LLM_BASE_URL")
    llm_api_key: str | None = Field(None, validation_alias="SPEK_LLM_API_KEY")
    gemini_api_key: str | None = Field(None, validation_alias="GEMINI_API_KEY")
    # One thread keeps its speed when the API and Whisper share the cores; more collapse under contention.
    llm_threads: int = Field(1, validation_alias="SPEK_LLM_THREADS")
    # Chat: an answer that takes longer fails with a message saying so (what was written is kept).
    chat_timeout_seconds: float = Field(180.0, validation_alias="SPEK_CHAT_TIMEOUT_SECONDS")

    # Rate limits ("N/period", moving windows on Redis, shared by every API process).
    rate_login_ip: str = Field("30/minute", validation_alias="SPEK_RATE_LOGIN_IP")
    rate_login_failures: str = Field("10/15 minutes", validation_alias="SPEK_RATE_LOGIN_FAILURES")
    rate_signup_ip: str = Field("20/hour", validation_alias="SPEK_RATE_SIGNUP_IP")
    rate_refresh_ip: str = Field("120/minute", validation_alias="SPEK_RATE_REFRESH_IP")
    rate_uploads: str = Field("100/hour", validation_alias="SPEK_RATE_UPLOADS")
    rate_chat: str = Field("30/minute", validation_alias="SPEK_RATE_CHAT")
    rate_requests: str = Field("1200/minute", validation_alias="SPEK_RATE_REQUESTS")
    rate_global: str = Field("20000/minute", validation_alias="SPEK_RATE_GLOBAL")
    # Proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the client.
    trusted_proxies: str = Field("", validation_alias="SPEK_TRUSTED_PROXIES")

    # The Telegram bot (`spek telegram`; `spek up` runs it when the token is set). The API URL is the Bot API
    # server's base: a self-hosted telegram-bot-api lifts the cloud's 20 MB download limit (up to 2 GB).
    telegram_token: SecretStr | None = Field(None, validation_alias="SPEK_TELEGRAM_TOKEN")
    telegram_api_url: str = Field("https://api.telegram.org", validation_alias="SPEK_TELEGRAM_API_URL")
    # Set: Telegram posts updates to <this> (the API's /telegram/webhook) instead of the bot polling.
    telegram_webhook_url: str | None = Field(None, validation_alias="SPEK_TELEGRAM_WEBHOOK_URL")
    # How old a Telegram WebApp's initData may be when it signs someone in.
    telegram_webapp_max_age_seconds: int = Field(24 * 3600, gt=0, validation_alias="SPEK_TELEGRAM_WEBAPP_MAX_AGE")

    log_level: str = Field("INFO", validation_alias="SPEK_LOG_LEVEL")
    log_json: bool = Field(False, validation_alias="SPEK_LOG_JSON")

    @field_validator(
        "rate_login_ip",
        "rate_login_failures",
        "rate_signup_ip",
        "rate_refresh_ip",
        "rate_uploads",
        "rate_chat",
        "rate_requests",
        "rate_global",
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate: write it as e.g. '10/minute' or '20/15 minutes'") from None
        return value

    @property
    def trusted_proxy_networks(self) -> list[str]:
        return [part.strip() for part in self.trusted_proxies.split(",") if part.strip()]

    @field_validator("public_url")
    @classmethod
    def _absolute_http_url(cls, url: str | None) -> str | None:
        """An absolute http(s) URL with a host and no query or fragment; kept without its trailing slash."""
        if url is None or not url.strip():
            return None
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"SPEK_PUBLIC_URL must look like https://spek.example.com, not {url!r}")
        return url.strip().rstrip("/")

    @property
    def public_base_url(self) -> str:
        """What every absolute link starts with: SPEK_PUBLIC_URL, or the address the API listens on."""
        if self.public_url:
            return self.public_url
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @field_validator("database_url")
    @classmethod
    def _use_asyncpg(cls, url: str | None) -> str | None:
        """Accept the usual `postgresql://` form and talk to it through asyncpg."""
        if url is None:
            return None
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url[len(prefix) :]
        return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
