"""One settings object: defaults, then a TOML config file, then ``REGARD_*`` variables.

The config file is ``$REGARD_CONFIG`` when set, else ``regard.toml`` in the
data directory.  Keyword arguments override everything (tests, library users).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/regard`` or ``~/.local/share/regard``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "regard"


def _config_file() -> Path:
    explicit = os.environ.get("REGARD_CONFIG")
    if explicit:
        return Path(explicit)
    data_dir = os.environ.get("REGARD_DATA_DIR")
    return (Path(data_dir) if data_dir else default_data_dir()) / "regard.toml"


class Settings(BaseSettings):
    """Every tunable of Regard.  Each field is also ``REGARD_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="REGARD_", extra="forbid")

    data_dir: Path = Field(default_factory=default_data_dir, description="Where the database and model cache live.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite file in data_dir.")
    model_cache_dir: Path | None = Field(None, description="Prepared ONNX graphs; default: data_dir/models.")

    max_image_bytes: int = Field(20 * 1024 * 1024, gt=0, description="Largest accepted upload, bytes.")
    max_image_pixels: int = Field(40_000_000, gt=0, description="Largest accepted width*height, pixels.")

    detector: str = Field("yunet", description="Detector model id.")
    embedder: str = Field(
        "accurate", description="Embedder or profile for new collections and compare: accurate, fast, sface, ..."
    )
    detect_max_px: int = Field(640, ge=64, description="Longest side an image is scaled to for detection.")
    detect_min_confidence: float = Field(0.6, ge=0.0, le=1.0, description="Detector score threshold.")
    min_face_px: int = Field(40, ge=1, description="Smallest face reported by detection (box's longer side), pixels.")
    max_faces: int = Field(100, ge=1, le=1000, description="Most faces returned per image, largest first.")

    enroll_min_confidence: float = Field(0.8, ge=0.0, le=1.0, description="Below: LOW_CONFIDENCE.")
    enroll_min_face_px: int = Field(60, ge=1, description="Face size below which: SMALL_BOUNDING_BOX.")
    enroll_min_sharpness: float = Field(8.0, ge=0.0, description="Below (0-100 scale): LOW_SHARPNESS.")
    enroll_min_brightness: float = Field(15.0, ge=0.0, description="Below (0-100 scale): LOW_BRIGHTNESS.")
    enroll_max_yaw_deg: float = Field(45.0, gt=0, description="Above: EXTREME_POSE.")
    enroll_max_pitch_deg: float = Field(40.0, gt=0, description="Above: EXTREME_POSE.")

    default_fmr: float = Field(1e-3, description="Operating point for decisions: 1e-3, 1e-4 or 1e-5.")
    store_thumbnails: bool = Field(False, description="Keep a small face thumbnail with each template.")
    thumbnail_px: int = Field(64, ge=16, le=256, description="Thumbnail side, pixels.")

    onnx_threads: int = Field(0, ge=0, description="onnxruntime intra-op threads; 0: one per core.")
    onnx_providers: list[str] = Field(default_factory=list, description="onnxruntime providers; empty: best available.")
    embed_batch_size: int = Field(0, ge=0, description="Faces per embedder run; 0: 1 on CPU, 64 on GPU.")

    ledger_key_file: Path | None = Field(
        None, description="Ed25519 key signing ledger checkpoints; default data_dir/keys."
    )
    ledger_witness_file: Path | None = Field(None, description="Checkpoints copied outside the database.")
    ledger_checkpoint_every: int = Field(100, ge=1, description="Sign a checkpoint every N ledger entries per tenant.")

    def resolved_ledger_key_file(self) -> Path:
        return self.ledger_key_file or self.data_dir / "keys" / "ledger-ed25519.pem"

    def resolved_ledger_witness_file(self) -> Path:
        return self.ledger_witness_file or self.data_dir / "ledger-checkpoints.jsonl"

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``data_dir/regard.db``."""
        return self.database_url or f"sqlite:///{self.data_dir / 'regard.db'}"

    def resolved_model_cache_dir(self) -> Path:
        """Where prepared model graphs are cached."""
        return self.model_cache_dir or self.data_dir / "models"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file())
        return (init_settings, env_settings, toml)


def load_settings(**overrides: Any) -> Settings:
    """Build settings from defaults, the config file, the environment and ``overrides``."""
    return Settings(**overrides)
