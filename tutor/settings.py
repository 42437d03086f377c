"""The one configuration object. Loaded once (env vars `TUTOR_*`, `.env`) and passed to what needs it."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tutor.mastery.select import STEP_BACK_AFTER


class Settings(BaseSettings):
    """Tutor settings. Every field can be set as `TUTOR_<FIELD>`; the API key also as `ANTHROPIC_API_KEY`."""

    model_config = SettingsConfigDict(env_prefix="TUTOR_", env_file=".env", extra="ignore", frozen=True)

    data_dir: Path = Field(Path(".tutor"), description="where databases, checkpoints and the vector store live")
    content_dir: Path = Field(Path("content"), description="folder of course folders")
    database_url: str | None = Field(None, description="SQLAlchemy URL of the learner records; default SQLite")
    chroma_path: Path | None = Field(None, description="embedded Chroma folder; default <data_dir>/chroma")
    chroma_url: str | None = Field(None, description="URL of a Chroma server; when set, used instead of chroma_path")
    embedding_fast: bool = Field(True, description="run the embedding model as its fused int8 build (about 2x faster)")
    model_cache: Path | None = Field(
        None, description="where the fused int8 embedding model is cached; default $XDG_CACHE_HOME/mastery-tutor"
    )
    retrieval_section_words: int = Field(
        400, ge=50, description="longest section (words) the tutor is given; a longer one is cut around its best chunk"
    )
    retrieval_sentence_vectors: bool = Field(
        False, description="also embed each sentence of a chunk, and search densely by a chunk's best sentence "
        "(sharper for short questions; ingest about 1.6x slower); applies to material added from then on"
    )
    retrieval_rerank: bool = Field(
        True, description="rerank the first 5 sections found for a learner's own question with a cross-encoder "
        "(ms-marco-MiniLM-L-12-v2; about 0.1 s a question on 2 cores); explanations of a skill are not reranked"
    )
    ingest_max_pages: int = Field(2000, ge=1, description="a PDF with more pages than this is not ingested")
    ingest_max_chunks: int = Field(
        20000, ge=1, description="a file making more search chunks than this is not ingested"
    )
    ingest_max_chars: int = Field(
        5_000_000, ge=1, description="a file with more characters of text than this is not ingested"
    )
    anthropic_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("TUTOR_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY")
    )
    anthropic_base_url: str | None = Field(
        None, validation_alias=AliasChoices("TUTOR_ANTHROPIC_BASE_URL", "ANTHROPIC_BASE_URL")
    )
    anthropic_model: str = Field("claude-sonnet-5-5", description="model for explanations and answers")
    anthropic_fast_model: str = Field("claude-haiku-5-5", description="model for grading and hints")
    prompt_set: Path | None = Field(
        None, description="a folder of prompt templates Claude uses instead of prompts/ (the ones it lacks come from "
        "prompts/); no effect offline")
    anthropic_timeout: float = Field(30.0, gt=0, description="seconds per request")
    anthropic_max_retries: int = Field(2, ge=0, description="retries of a failed request, within the turn's time")
    llm_turn_seconds: float = Field(
        20.0, gt=0,
        description="seconds the language model may take per learner turn, all calls and retries; then offline",
    )
    daily_token_budget: int | None = Field(
        None, ge=1, description="tokens one learner may spend on the language model per day (UTC); then offline"
    )
    max_remediations: int = Field(
        STEP_BACK_AFTER, ge=1,
        description="remediations on a skill without progress before its weakest prerequisite is checked again",
    )
    auth_secret: SecretStr | None = Field(
        None, description="signs sign-in tokens; default: a random secret generated into <data_dir>/auth_secret"
    )
    self_registration: bool = Field(False, description="learners may create their own accounts on the sign-in page")
    session_hours: float = Field(12.0, gt=0, description="how long a sign-in lasts (the cookie and the session)")
    sign_in_max_failures: int = Field(5, ge=1, description="failed sign-ins per name within 15 minutes before a wait")
    oidc_role_claim: str | None = Field(
        None, description="OIDC claim holding the role (learner/author/instructor/admin); default: the users table"
    )
    jobs_concurrency: int = Field(1, ge=1, description="heavy jobs (evals, benchmarks, big ingests) run at once")
    jobs_per_user: int = Field(2, ge=1, description="queued or running heavy jobs one person may have")
    large_upload_mb: float = Field(2.0, gt=0, description="uploads larger than this are ingested by a queued job")
    xapi_url: str | None = Field(None, description="xAPI endpoint of the organisation's LRS; unset: no statements")
    xapi_username: str | None = Field(None, description="LRS basic-auth user (the LRS's key)")
    xapi_password: SecretStr | None = Field(None, description="LRS basic-auth password (the LRS's secret)")
    xapi_home_page: str = Field("http://localhost:8501", description="this tutor's address: names learners' accounts "
                                "and activities in statements")
    xapi_interval: float = Field(5.0, gt=0, description="seconds between the sender's passes over the outbox")
    stuck_idle_days: int = Field(7, ge=1, description="days without activity after which a learner is listed stuck")

    @field_validator("prompt_set")
    @classmethod
    def _a_usable_prompt_set(cls, folder: Path | None) -> Path | None:
        """A prompt set is checked when the settings are read, not at the first call to Claude (a missing or
        mistyped folder would otherwise fall back to prompts/ without a word)."""
        if folder is not None:
            from tutor.llm.prompts import check_prompt_set  # tutor.llm imports this module

            check_prompt_set(folder)
        return folder

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'tutor.db').resolve()}"

    @property
    def resolved_chroma_path(self) -> Path:
        return self.chroma_path or self.data_dir / "chroma"

    @property
    def checkpoint_path(self) -> Path:
        return self.data_dir / "checkpoints.sqlite"

    @property
    def offline(self) -> bool:
        """True when no API key is set: the embedded offline provider is used."""
        return self.anthropic_api_key is None or not self.anthropic_api_key.get_secret_value()
