"""API keys: random, shown once, stored as a sha256 of their secret part, scoped to one tenant."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

PREFIX = "rgk"


@dataclass(frozen=True)
class NewKey:
    key_id: str
    secret: str  # the whole key as the caller must present it; never stored
    owner: str = ""

    @property
    def token(self) -> str:
        return self.secret


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    tenant: str
    label: str
    roles: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    owner: str = ""


RESERVED_OWNERS = frozenset({"local", "system"})


def owner_of(owner: str | None, key_id: str) -> str:
    """The person a key belongs to, normalised; without one named, the key stands for a person of its own."""
    from regard.context import normalise_actor
    from regard.errors import InvalidInputError

    name = normalise_actor(owner if owner is not None else f"key:{key_id}")
    if not name or name in RESERVED_OWNERS or name.startswith(("scheduler:", "system:")):
        raise InvalidInputError(f"a key's owner must name a person, not {owner!r}")
    return name


def generate() -> tuple[str, str, str]:
    """(key id, full token, sha256 of the secret part)."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return key_id, f"{PREFIX}_{key_id}_{secret}", hash_secret(secret)


def hash_secret(secret: str) -> str:
    # The secret has 256 bits of entropy, so a plain sha256 is not brute-forceable.
    return hashlib.sha256(secret.encode()).hexdigest()


def parse(token: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed token, else None."""
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
