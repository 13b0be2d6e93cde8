"""Witnesses: the ledger's entry hashes and signed checkpoints, copied where the database's owner cannot rewrite them.

A witness is a file (on another mount, or one only appendable by the service)
or a syslog destination (``syslog://host:514`` over UDP, ``syslog+tcp://host:601``,
``syslog:///dev/log`` for the local daemon), through the standard library's
``SysLogHandler``.  Each committed entry adds one line ``{"kind": "entry",
tenant, seq, entry_hash}`` and each checkpoint one line with its signature, so
a truncated, rewritten or forged tail is visible as long as one witness is out
of the attacker's reach.  Lines are written after the transaction commits: a
rolled-back entry never reaches a witness.

Syslog copies are read back from a file the log server kept (``ledger verify
--witness FILE``): each line carries ``regard-ledger: {json}``.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import socket
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from regard.errors import InvalidInputError
from regard.governance.signing import SignedCheckpoint, canonical

TAG = "regard-ledger"
_log = logging.getLogger("regard.ledger")


def entry_line(tenant: str, seq: int, entry_hash: str) -> dict[str, Any]:
    return {"kind": "entry", "tenant": tenant, "seq": seq, "entry_hash": entry_hash}


def checkpoint_line(cp: SignedCheckpoint) -> dict[str, Any]:
    return {"kind": "checkpoint", **cp.as_json()}


# -- writing --------------------------------------------------------------------------------------
class _FileTarget:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)

    def write(self, lines: list[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One write() in append mode: lines of concurrent writers never interleave.
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in lines))

    def close(self) -> None:
        pass


class _RaisingSysLogHandler(logging.handlers.SysLogHandler):
    def handleError(self, record: logging.LogRecord) -> None:
        raise  # the caller logs the failure once, in its own words


class _SyslogTarget:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.name = url
        facility = parse_qs(parts.query).get("facility", ["user"])[0]
        if facility not in logging.handlers.SysLogHandler.facility_names:
            raise InvalidInputError(f"witness {url}: unknown syslog facility '{facility}'")
        self._facility = logging.handlers.SysLogHandler.facility_names[facility]
        self._address: str | tuple[str, int]
        if parts.hostname:
            self._address = (parts.hostname, parts.port or (601 if parts.scheme == "syslog+tcp" else 514))
        elif parts.path:
            self._address = parts.path
        else:
            raise InvalidInputError(f"witness {url}: give a host (syslog://host:514) or a socket (syslog:///dev/log)")
        self._socktype = socket.SOCK_STREAM if parts.scheme == "syslog+tcp" else socket.SOCK_DGRAM
        self._handler: _RaisingSysLogHandler | None = None
        self._lock = threading.Lock()

    def write(self, lines: list[str]) -> None:
        with self._lock:
            if self._handler is None:
                self._handler = _RaisingSysLogHandler(self._address, self._facility, self._socktype)
                self._handler.ident = f"{TAG}: "
            for line in lines:
                self._handler.emit(logging.LogRecord(TAG, logging.INFO, "", 0, line, None, None))

    def close(self) -> None:
        with self._lock:
            if self._handler is not None:
                self._handler.close()
                self._handler = None


def _target(spec: str) -> _FileTarget | _SyslogTarget:
    scheme = urlsplit(spec).scheme
    if scheme in ("syslog", "syslog+tcp", "syslog+udp"):
        return _SyslogTarget(spec)
    if scheme == "file":
        return _FileTarget(Path(urlsplit(spec).path))
    if scheme and len(scheme) > 1:
        raise InvalidInputError(f"witness '{spec}': a file path, file://, syslog:// or syslog+tcp:// URL")
    return _FileTarget(Path(spec).expanduser())


class Witness:
    """The configured witness targets; ``write`` after a commit, ``files`` to read back."""

    def __init__(self, targets: list[str]) -> None:
        self._targets = [_target(t) for t in targets]

    @property
    def active(self) -> bool:
        return bool(self._targets)

    def files(self) -> list[Path]:
        return [t.path for t in self._targets if isinstance(t, _FileTarget)]

    def write(self, records: list[dict[str, Any]]) -> None:
        """Copy ``records`` to every target.  A failing target is logged; ``ledger verify`` later names the gap."""
        if not records or not self._targets:
            return
        lines = [canonical(r) for r in records]
        for target in self._targets:
            try:
                target.write(lines)
            except OSError as exc:
                _log.error("ledger witness %s could not be written: %s", target.name, exc)

    def close(self) -> None:
        for target in self._targets:
            target.close()


# -- reading --------------------------------------------------------------------------------------
@dataclass
class WitnessRecords:
    """What the witnesses say of one tenant: entry hashes by sequence number, checkpoints, unreadable lines."""

    sources: list[str] = field(default_factory=list)
    entries: dict[int, str] = field(default_factory=dict)
    forked: set[int] = field(default_factory=set)  # entries witnessed with two different hashes
    checkpoints: list[SignedCheckpoint] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)


def parse_line(line: str) -> dict[str, Any] | None:
    """One witness line (plain JSON, or a syslog line carrying ``regard-ledger: {json}``); None when blank."""
    text = line.strip().strip("\x00").strip()
    if not text:
        return None
    marker = text.find(f"{TAG}:")
    start = text.find("{", marker if marker >= 0 else 0)
    if start < 0 or (marker < 0 and start != 0):
        raise ValueError("not a witness record")
    value, end = json.JSONDecoder().raw_decode(text, start)
    if text[end:].strip("\x00 \t") or not isinstance(value, dict):
        raise ValueError("trailing text after the record")
    return value


def read(sources: Iterable[tuple[str, Iterable[str]]], tenant: str) -> WitnessRecords:
    """Collect ``tenant``'s records from named sources of lines; a line that cannot be read is a finding."""
    out = WitnessRecords()
    for name, lines in sources:
        out.sources.append(name)
        for number, line in enumerate(lines, 1):
            try:
                _add(out, parse_line(line), tenant)
            except (ValueError, TypeError) as exc:
                out.malformed.append(f"witness {name} line {number} is malformed ({_short(exc)})")
    return out


def _add(out: WitnessRecords, record: dict[str, Any] | None, tenant: str) -> None:
    if record is None or record.get("tenant") != tenant:
        return
    kind = record.get("kind", "checkpoint" if "signature" in record else None)
    if kind == "checkpoint":
        out.checkpoints.append(SignedCheckpoint.from_json({k: v for k, v in record.items() if k != "kind"}))
    elif kind == "entry":
        seq, entry_hash = record.get("seq"), record.get("entry_hash")
        if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(entry_hash, str):
            raise ValueError("entry record without an integer seq and a hash")
        if out.entries.setdefault(seq, entry_hash) != entry_hash:
            out.forked.add(seq)
    else:
        raise ValueError(f"unknown kind {kind!r}")


def _short(exc: Exception) -> str:
    return str(exc).split("\n")[0][:80]


def file_lines(path: Path) -> Iterator[str]:
    """A witness file's lines; a missing file has none (its absence is judged against the entries it missed)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            yield from handle
    except FileNotFoundError:
        return
