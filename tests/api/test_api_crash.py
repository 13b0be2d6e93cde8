"""SIGKILL the server (every worker at once) during load: no write it acknowledged is lost.

A real `regard serve` with two workers on one SQLite database; clients enroll
as fast as they can; the whole process group is killed mid-load.  Afterwards
every face of every 2xx answer is in the database, every such enrollment is in
the ledger, nothing is in the database without its ledger entry, and the
ledger verifies.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import numpy as np
from conftest import encode

from regard import CallContext, Regard
from regard.evaluation.live_server import COLLECTION, PURPOSE, TENANT, LiveServer, prepare


def _images(astronaut: np.ndarray) -> list[bytes]:
    return [encode(np.ascontiguousarray(astronaut[d:, d:])) for d in (0, 6, 12, 18)]


def test_killing_the_server_loses_no_acknowledged_write(
    tmp_path: Path, model_cache: Path, astronaut: np.ndarray
) -> None:
    data = tmp_path / "data"
    token = prepare(data, model_cache)
    server = LiveServer.start(data, workers=2, model_cache=model_cache)
    images = _images(astronaut)
    acknowledged: list[tuple[str, list[str]]] = []
    unexpected: list[str] = []
    stop = threading.Event()

    def client(number: int) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
            sent = 0
            while not stop.is_set():
                subject = f"c{number}-{sent}"
                files = [("images", ("a.jpg", images[(number + sent) % 4])), ("images", ("b.jpg", images[sent % 4]))]
                try:
                    r = http.post(
                        f"/v1/collections/{COLLECTION}/subjects/{subject}/faces",
                        params={"purpose": PURPOSE},
                        files=files,
                    )
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code == 201:
                    acknowledged.append((subject, [f["face_id"] for f in r.json()["indexed_faces"]]))
                else:
                    unexpected.append(f"{r.status_code} {r.text[:200]}")
                sent += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 120
        while len(acknowledged) < 12 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()  # in the middle of requests: several are in flight
    finally:
        stop.set()
        server.kill()
        for t in threads:
            t.join(60)
    assert len(acknowledged) >= 12 and unexpected == []

    with Regard(data_dir=data, model_cache_dir=model_cache) as svc:
        ctx = CallContext.local(TENANT, PURPOSE)
        for subject, face_ids in acknowledged:
            assert face_ids
            for face_id in face_ids:
                assert svc.face(face_id, ctx).subject == subject
        entries = [e.fields for e in svc.ledger_entries(ctx) if e.fields["operation"] == "enroll"]
        recorded = {f["result"]["subject"]: f["result"]["indexed"] for f in entries}
        assert {subject for subject, _ in acknowledged} <= set(recorded)
        assert svc.describe_collection(COLLECTION, ctx).face_count == sum(recorded.values())
        assert svc.verify_ledger(ctx).ok
