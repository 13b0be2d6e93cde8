"""Settings: defaults, config file, environment, and the documentation staying true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from regard.settings import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "regard.toml"
    config.write_text('max_faces = 7\nmin_face_px = 30\ndetector = "centerface"\n')
    monkeypatch.setenv("REGARD_CONFIG", str(config))
    monkeypatch.setenv("REGARD_MIN_FACE_PX", "50")
    settings = Settings(detector="yunet")
    assert settings.max_faces == 7  # file
    assert settings.min_face_px == 50  # environment beats file
    assert settings.detector == "yunet"  # arguments beat both


def test_defaults_and_derived_paths(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path / 'regard.db'}"
    assert settings.resolved_model_cache_dir() == tmp_path / "models"
    assert settings.min_face_px == 40 and settings.max_faces == 100


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        Settings(no_such_setting=1)  # type: ignore[call-arg]


def test_every_setting_is_documented() -> None:
    doc = (DOCS / "settings.md").read_text()
    documented = set(re.findall(r"`REGARD_([A-Z_]+)`", doc))
    fields = {name.upper() for name in Settings.model_fields}
    assert fields - documented == set(), "settings missing from docs/settings.md"
    assert documented - fields - {"CONFIG"} == set(), "docs/settings.md names settings that do not exist"
