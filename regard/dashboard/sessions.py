"""Dashboard sessions: a login with a personal API key becomes a random secret in an HttpOnly cookie.

The server keeps one small file per session in ``data_dir/dashboard-sessions``, which every worker process of
the host shares: the CSRF token, the session's times, and the API key sealed (AES-GCM) under a key derived from
the cookie's secret.  So the cookie never carries the API key; the folder alone opens nothing (whoever copies it
still needs each browser's cookie); and logging out deletes the file, which ends the session in every worker at
once.  The file is named by the secret's sha256, never by the secret.  The dashboard authenticates the key again
on every request, so a revoked or expired key ends its sessions too.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
_TOUCH_EVERY_S = 60.0  # how stale ``seen_at`` may get before a request writes it again


@dataclass(frozen=True)
class Session:
    """One login: times in seconds since the epoch, and the token every state-changing request must send."""

    id: str  # sha256 of the cookie's secret, hex: the file's name
    csrf_token: str
    created_at: float
    seen_at: float
    expires_at: float  # absolute end, however busy the session is
    sealed_key: str  # base64 of nonce + AES-GCM(API key)


@dataclass(frozen=True)
class Opened:
    """A session that checked out, with the API key it unsealed."""

    session: Session
    api_key: str


class SessionStore:
    """Sessions as files, shared by the worker processes of one host.

    ``idle_s``: a session not used for that long ends; ``max_s``: a session ends that long after login.
    """

    def __init__(self, folder: Path, idle_s: float, max_s: float, clock: Callable[[], float] = time.time) -> None:
        self._folder = folder
        self._idle_s = idle_s
        self._max_s = max_s
        self._clock = clock

    def open(self, api_key: str) -> tuple[str, Session]:
        """A new session for ``api_key`` (already authenticated); returns the cookie's secret and the session."""
        self._folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(32)
        session_id = _digest(secret)
        nonce = os.urandom(12)
        sealed = nonce + _cipher(secret).encrypt(nonce, api_key.encode(), session_id.encode())
        now = self._clock()
        session = Session(
            id=session_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            seen_at=now,
            expires_at=now + self._max_s,
            sealed_key=base64.b64encode(sealed).decode(),
        )
        self._write(session)
        return secret, session

    def load(self, secret: str) -> Opened | None:
        """The live session of a cookie's secret, with its API key; ``None`` when unknown, ended or tampered with."""
        if not _SECRET.fullmatch(secret):
            return None
        path = self._path(_digest(secret))
        try:
            session = Session(**json.loads(path.read_text()))
            sealed = base64.b64decode(session.sealed_key)
            api_key = _cipher(secret).decrypt(sealed[:12], sealed[12:], session.id.encode()).decode()
        except (OSError, ValueError, TypeError, InvalidTag):
            return None
        now = self._clock()
        if now >= session.expires_at or now - session.seen_at >= self._idle_s:
            path.unlink(missing_ok=True)
            return None
        if now - session.seen_at >= _TOUCH_EVERY_S:
            session = replace(session, seen_at=now)
            self._write(session)
        return Opened(session, api_key)

    def close(self, secret: str) -> None:
        """Log out: the session's file goes, so its cookie opens nothing any more, in any worker."""
        if _SECRET.fullmatch(secret):
            self._path(_digest(secret)).unlink(missing_ok=True)

    def sweep(self) -> int:
        """Delete the files of sessions that ended (by age or idleness); returns how many went."""
        now = self._clock()
        removed = 0
        for path in self._folder.glob("*.json") if self._folder.is_dir() else ():
            with contextlib.suppress(OSError, ValueError, TypeError):
                session = Session(**json.loads(path.read_text()))
                if now >= session.expires_at or now - session.seen_at >= self._idle_s:
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed

    def _path(self, session_id: str) -> Path:
        return self._folder / f"{session_id}.json"

    def _write(self, session: Session) -> None:
        # Written aside and renamed, so a worker never reads half a file.
        target = self._path(session.id)
        partial = target.with_name(f".{session.id}.{secrets.token_hex(4)}.partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(asdict(session), handle)
        os.replace(partial, target)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _cipher(secret: str) -> AESGCM:
    key = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"regard dashboard session").derive(secret.encode())
    return AESGCM(key)
