"""Dashboard sessions: the API key never leaves the server in the clear, sessions end, tampering opens nothing."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from regard.dashboard.sessions import SessionStore

KEY = "rgk_0123456789ab_" + "s" * 43


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_opens_with_its_cookie_and_keeps_the_key_sealed(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s", idle_s=600, max_s=3600)
    secret, session = store.open(KEY)
    assert KEY not in secret and KEY.split("_")[2] not in secret
    files = list((tmp_path / "s").iterdir())
    assert [f.name for f in files] == [f"{session.id}.json"] and secret not in files[0].name
    assert KEY.split("_")[2] not in files[0].read_text()  # sealed, not stored
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "s").stat().st_mode) == 0o700
    opened = store.load(secret)
    assert opened is not None and opened.api_key == KEY and opened.session.csrf_token == session.csrf_token
    # A second store over the same folder (another worker process) opens it too.
    assert SessionStore(tmp_path / "s", idle_s=600, max_s=3600).load(secret) is not None


def test_wrong_or_malformed_secrets_open_nothing(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s", idle_s=600, max_s=3600)
    secret, _ = store.open(KEY)
    for wrong in ("", "x", "../../etc/passwd", secret[:-1] + ("A" if secret[-1] != "A" else "B"), secret + "=="):
        assert store.load(wrong) is None


def test_a_tampered_session_file_opens_nothing(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s", idle_s=600, max_s=3600)
    secret, session = store.open(KEY)
    other_secret, other = store.open("rgk_ffffffffffff_" + "o" * 43)
    path = tmp_path / "s" / f"{session.id}.json"
    stored = json.loads(path.read_text())
    # Someone who can write the folder swaps in another session's sealed key: it is bound to that session's id.
    swapped = json.loads((tmp_path / "s" / f"{other.id}.json").read_text())["sealed_key"]
    path.write_text(json.dumps({**stored, "sealed_key": swapped}))
    assert store.load(secret) is None
    path.write_text("not json")
    assert store.load(secret) is None
    assert store.load(other_secret) is not None


def test_sessions_end_when_idle_when_old_and_on_logout(tmp_path: Path) -> None:
    clock = Clock()
    store = SessionStore(tmp_path / "s", idle_s=600, max_s=3600, clock=clock)
    secret, _ = store.open(KEY)
    for _ in range(5):  # used every 9 minutes: never idle for 10
        clock.now += 540
        assert store.load(secret) is not None
    clock.now += 540 + 600  # an hour after login, however busy
    assert store.load(secret) is None
    assert list((tmp_path / "s").glob("*.json")) == []

    idle, _ = store.open(KEY)
    clock.now += 601
    assert store.load(idle) is None

    closed, _ = store.open(KEY)
    store.close(closed)
    assert store.load(closed) is None


def test_sweeping_deletes_only_ended_sessions(tmp_path: Path) -> None:
    clock = Clock()
    store = SessionStore(tmp_path / "s", idle_s=600, max_s=3600, clock=clock)
    store.open(KEY)
    clock.now += 700
    live, _ = store.open(KEY)
    assert store.sweep() == 1
    assert store.load(live) is not None
