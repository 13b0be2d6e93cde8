"""Fixtures: real sample photos from scikit-image, a Regard service on a temporary SQLite store."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from regard import Regard

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def encode(array: np.ndarray, fmt: str = "JPEG", **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


@pytest.fixture(autouse=True, scope="session")
def fast_profile_by_default() -> Iterator[None]:
    """Tests embed with the fast profile (SFace, ~10 ms a face) unless they name another model.

    The default, accurate, also runs dlib twice per face (~200 ms); tests/test_profiles.py covers it.
    Set in the environment so CLI runs and child processes get it too.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REGARD_EMBEDDER", "fast")
        yield


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def cameraman() -> np.ndarray:
    from skimage import data

    return np.repeat(data.camera()[:, :, None], 3, axis=2)


@pytest.fixture(scope="session")
def cat() -> np.ndarray:
    from skimage import data

    return data.chelsea()


@pytest.fixture(scope="session")
def grid4(astronaut: np.ndarray) -> np.ndarray:
    """Four astronauts of different sizes in one picture (faces of ~90, 68, 45 and 45 px)."""
    import cv2

    canvas = np.full((900, 900, 3), 200, dtype=np.uint8)
    canvas[:512, :512] = astronaut
    for (y, x), size in zip([(0, 512), (512, 0), (512, 300)], [384, 256, 256], strict=True):
        canvas[y : y + size, x : x + size] = cv2.resize(astronaut, (size, size), interpolation=cv2.INTER_AREA)
    return canvas


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


def declare_default_purpose(svc: Regard, tenant: str = "default", name: str = "unspecified") -> None:
    """Every biometric call needs a declared purpose; tests of the engine use this one."""
    from regard import CallContext

    svc.declare_purpose(
        name,
        CallContext(tenant=tenant, purpose=name),
        category="photo-organisation",
        legal_basis="legitimate-interests",
        data_subjects="people in the test photos",
        retention_days=30,
        max_collection_subjects=10_000,
        consequential=False,
    )


@pytest.fixture
def service(tmp_path: Path, model_cache: Path) -> Iterator[Regard]:
    with Regard(data_dir=tmp_path / "data", model_cache_dir=model_cache, onnx_threads=1) as svc:
        declare_default_purpose(svc)
        yield svc


def shared(path: str) -> Path:
    target = SHARED_DATA / path
    if not target.exists():
        pytest.skip(f"{target} is absent: ../shared/data is only beside CI and developer checkouts")
    return target
