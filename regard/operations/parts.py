"""What every part of the service shares: settings, the store, models, indexes, governance and the guard."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from regard.backends.registry import ModelRegistry
from regard.engine import FaceEngine
from regard.governance.repository import Governance
from regard.guard import Guard
from regard.index.catalog import IndexCatalog
from regard.settings import Settings
from regard.store.repository import Store


@dataclass
class Parts:
    settings: Settings
    store: Store
    registry: ModelRegistry
    engine: FaceEngine
    indexes: IndexCatalog
    governance: Governance
    guard: Guard
    # Serialises this process's writes with the index update that follows each commit.
    write_lock: threading.Lock = field(default_factory=threading.Lock)
