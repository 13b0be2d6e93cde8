"""One settings object: defaults, then a TOML config file, then ``REGARD_*`` variables.

The config file is ``$REGARD_CONFIG`` when set, else ``regard.toml`` in the
data directory.  Keyword arguments override everything (tests, library users).
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
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


def default_config_dir() -> Path:
    """``$XDG_CONFIG_HOME/regard`` or ``~/.config/regard``: where the ledger's signing key lives by default."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "regard"


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/regard`` or ``~/.local/state/regard``: where the default ledger witness is kept."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
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

    index_backend: Literal["exact", "faiss-hnsw", "pgvector", "milvus"] = Field(
        "exact", description="Vector index: exact (default), faiss-hnsw (in-process HNSW), pgvector, milvus."
    )
    ann_dtype: Literal["f32", "f16"] = Field("f32", description="faiss-hnsw: how vectors are kept in the graph.")
    ann_connectivity: int = Field(32, ge=4, le=128, description="HNSW edges per node (M), every HNSW backend.")
    ann_ef_construction: int = Field(128, ge=8, description="HNSW candidate list while building.")
    ann_ef_search: int = Field(1024, ge=8, description="HNSW candidate list while searching (recall vs latency).")
    milvus_uri: str | None = Field(None, description="Milvus server URL, or a Milvus Lite file; default data_dir.")
    milvus_token: str | None = Field(None, description="Milvus credentials ('user:password' or an API key).")
    batch_journal_dir: Path | None = Field(None, description="Journals of batch jobs; default data_dir/jobs.")

    ledger_key_file: Path | None = Field(
        None, description="Ed25519 key signing ledger checkpoints; default ~/.config/regard, outside data_dir."
    )
    ledger_public_key: str | None = Field(
        None, description="Public key ledger verification trusts: 64 hex characters, or a file holding them."
    )
    ledger_witness: list[str] | None = Field(
        None,
        description="Where entry hashes and checkpoints are also written: file paths, syslog://host:514, "
        "syslog+tcp://host:601, syslog:///dev/log; default one file under ~/.local/state/regard; [] for none.",
    )
    ledger_checkpoint_every: int = Field(100, ge=1, description="Sign a checkpoint every N ledger entries per tenant.")

    serve_host: str = Field("127.0.0.1", description="Address `regard serve` listens on.")
    serve_port: int = Field(8000, ge=1, le=65535, description="Port `regard serve` listens on.")
    serve_workers: int = Field(1, ge=1, le=64, description="Worker processes of `regard serve`.")
    max_request_bytes: int = Field(100 * 1024 * 1024, gt=0, description="Largest request body, bytes.")
    max_images_per_request: int = Field(10, ge=1, le=1000, description="Most images in one enrollment request.")
    max_model_bytes: int = Field(512 * 1024 * 1024, gt=0, description="Largest model or report upload, bytes.")
    rate_limit_per_s: float = Field(20.0, ge=0, description="Calls per second per API key, all workers; 0: off.")
    rate_limit_burst: int = Field(40, ge=1, description="Calls an API key may make at once before being limited.")
    idempotency_ttl_h: float = Field(24.0, gt=0, description="Hours an idempotency key's first answer is kept.")
    purge_interval_h: float = Field(24.0, ge=0, description="Hours between the server's retention purges; 0: off.")
    dashboard: bool = Field(True, description="Serve the web dashboard at /dashboard beside the API.")
    dashboard_idle_min: float = Field(30.0, gt=0, description="Minutes without a request after which a session ends.")
    dashboard_session_h: float = Field(8.0, gt=0, description="Hours after login at which a session ends, used or not.")
    dashboard_login_failures: int = Field(
        10, ge=0, description="Failed dashboard logins a client address may make in a window, all workers; 0: off."
    )
    dashboard_login_window_min: float = Field(
        15.0, gt=0, description="Minutes over which a client address's failed logins are forgiven."
    )

    def resolved_ledger_key_file(self) -> Path:
        """The signing key: the setting, else ``~/.config/regard/ledger-ed25519.pem``.

        An installation from before the key moved out of the data directory
        keeps its key there (so its old checkpoints still verify); the service
        warns about it until the key is moved.
        """
        if self.ledger_key_file is not None:
            return self.ledger_key_file
        default = default_config_dir() / "ledger-ed25519.pem"
        legacy = self.data_dir / "keys" / "ledger-ed25519.pem"
        return legacy if legacy.exists() and not default.exists() else default

    def resolved_ledger_witness(self) -> list[str]:
        """Witness targets: the setting, else one file per database under ``~/.local/state/regard``."""
        if self.ledger_witness is not None:
            return list(self.ledger_witness)
        return [str(default_state_dir() / f"ledger-witness-{self.database_id()}.jsonl")]

    def database_id(self) -> str:
        """A short, stable name of the database (its URL without password, SQLite paths made absolute)."""
        from sqlalchemy.engine import make_url

        url = make_url(self.resolved_database_url()).set(password=None)
        if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
            url = url.set(database=str(Path(url.database).resolve()))
        return hashlib.sha256(url.render_as_string(hide_password=False).encode()).hexdigest()[:12]

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``data_dir/regard.db``."""
        return self.database_url or f"sqlite:///{self.data_dir / 'regard.db'}"

    def resolved_milvus_uri(self) -> str:
        """A Milvus server URL, or the Milvus Lite file in ``data_dir``."""
        return self.milvus_uri or str(self.data_dir / "milvus.db")

    def resolved_batch_journal_dir(self) -> Path:
        return self.batch_journal_dir or self.data_dir / "jobs"

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
    """Build settings from defaults, the config file, the environment and ``overrides``.

    A malformed value or config file is an ``InvalidInputError`` naming the setting, not a validation trace.
    """
    from regard.errors import InvalidInputError

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise InvalidInputError(f"invalid setting ({problems}); see REGARD_* variables and regard.toml") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"{_config_file()}: not valid TOML: {exc}") from None
