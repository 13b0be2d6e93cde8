"""Regard: self-hosted face recognition, accountable by construction.

``Regard`` is the front door; every operation takes a ``CallContext``.
"""

from typing import TYPE_CHECKING, Any

from regard.context import CallContext
from regard.domain import (
    CollectionInfo,
    Comparison,
    Decision,
    DetectedFace,
    Detection,
    EnrollResult,
    FaceRecord,
    Page,
    Quality,
    QualityLevel,
    SearchResult,
    SubjectInfo,
    SubjectMatch,
    UnindexedFace,
    UnindexedReason,
)
from regard.errors import (
    AlreadyExistsError,
    ImageTooLargeError,
    InvalidImageError,
    InvalidInputError,
    ModelMismatchError,
    ModelUnavailableError,
    NoFaceError,
    NotFoundError,
    RegardError,
    StoreError,
)

__version__ = "0.1.0"

if TYPE_CHECKING:
    from regard.service import Regard
    from regard.settings import Settings, load_settings

_LAZY = {"Regard": "regard.service", "Settings": "regard.settings", "load_settings": "regard.settings"}


def __getattr__(name: str) -> Any:
    # The service pulls in SQLAlchemy, Alembic and pydantic: load it on first use so `import regard` stays fast.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'regard' has no attribute {name!r}")


__all__ = [
    "AlreadyExistsError",
    "CallContext",
    "CollectionInfo",
    "Comparison",
    "Decision",
    "DetectedFace",
    "Detection",
    "EnrollResult",
    "FaceRecord",
    "ImageTooLargeError",
    "InvalidImageError",
    "InvalidInputError",
    "ModelMismatchError",
    "ModelUnavailableError",
    "NoFaceError",
    "NotFoundError",
    "Page",
    "Quality",
    "QualityLevel",
    "Regard",
    "RegardError",
    "SearchResult",
    "Settings",
    "StoreError",
    "SubjectInfo",
    "SubjectMatch",
    "UnindexedFace",
    "UnindexedReason",
    "load_settings",
]
