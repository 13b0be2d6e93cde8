"""Regard: self-hosted face recognition, accountable by construction.

``Regard`` is the front door; every operation takes a ``CallContext``.
"""

from regard.context import LOCAL, CallContext
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
from regard.service import Regard
from regard.settings import Settings, load_settings

__version__ = "0.1.0"

__all__ = [
    "LOCAL",
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
