"""Settings from the environment (prefix ``BCONE_``), failing fast on unsafe production values."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Shipped defaults that must never run in production: the app refuses to start with them
# outside development.
DEFAULT_SECRET_KEY = "bcone-development-secret-change-me"
DEFAULT_PHONE_HASH_KEY = "bcone-development-phone-key-change-me"


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as ``BCONE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="BCONE_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("bcone-data")
    database_url: str | None = None
    warehouse_url: str | None = None
    secret_key: str = DEFAULT_SECRET_KEY
    phone_hash_key: str = DEFAULT_PHONE_HASH_KEY
    host: str = "127.0.0.1"
    port: int = 8000
    default_locale: Literal["zh-CN", "en"] = "zh-CN"
    session_max_age_seconds: int = Field(default=12 * 3600, gt=0)
    # Outbox rows moved to the warehouse per flush batch: large enough to amortise the
    # warehouse's per-insert cost, small enough to keep one transaction short.
    outbox_batch_size: int = Field(default=50_000, gt=0)
    jobs_mode: Literal["inline", "queue"] = "inline"
    page_size_default: int = Field(default=50, gt=0, le=500)
    # Threads per process that run consumer scans (a scan is mostly Python holding the GIL).
    scan_threads: int = Field(default=4, ge=1, le=64)
    # Where WeChat's API is reached (OAuth code exchange); a sandbox or proxy may stand in.
    wechat_api_base: str = "https://api.weixin.qq.com"

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment == "production":
            for name, default in (
                ("secret_key", DEFAULT_SECRET_KEY),
                ("phone_hash_key", DEFAULT_PHONE_HASH_KEY),
            ):
                if getattr(self, name) == default:
                    raise ValueError(
                        f"BCONE_{name.upper()} still has its development default; "
                        "set a random value before running in production"
                    )
            if len(self.secret_key) < 32:
                raise ValueError("BCONE_SECRET_KEY must be at least 32 characters in production")
        return self

    @property
    def effective_database_url(self) -> str:
        """The OLTP URL: the configured one, else SQLite in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'bcone.db').as_posix()}"

    @property
    def effective_warehouse_url(self) -> str:
        """The warehouse URL: the configured one, else a DuckDB file in the data directory."""
        if self.warehouse_url:
            return self.warehouse_url
        return f"duckdb:///{(self.data_dir / 'warehouse.duckdb').as_posix()}"

    @property
    def secure_cookies(self) -> bool:
        return self.environment == "production"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
