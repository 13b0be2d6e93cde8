"""Load on loopback: 50 concurrent clients enrolling and searching against `regard serve` with several workers.

One SQLite database in WAL mode, the embedded default.  Each client loops for
a fixed time: enroll a new subject (two images), then search with a third; it
sends its next request when the last is answered.  Reported: throughput,
p50/p99 latency per operation, every non-2xx answer or transport error, and
afterwards that the ledger verifies and the collection holds exactly the faces
the acknowledged enrollments stored.

    python benchmarks/api_load.py --clients 50 --seconds 60 --workers 2
    REGARD_EMBEDDER=fast python benchmarks/api_load.py --out api_load_fast
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
from _common import write_result
from PIL import Image
from skimage import data

from regard.evaluation.live_server import COLLECTION, PURPOSE, LiveServer, prepare
from regard.settings import load_settings


def photos() -> list[bytes]:
    import io

    astronaut = data.astronaut()
    out = []
    for d in (0, 8, 16, 24, 32, 40):
        buffer = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(astronaut[d:, d:])).save(buffer, format="JPEG")
        out.append(buffer.getvalue())
    return out


async def client(
    number: int,
    http: httpx.AsyncClient,
    images: list[bytes],
    until: float,
    log: dict[str, list[float]],
    errors: Counter[str],
) -> int:
    indexed = 0
    sent = 0
    params = {"purpose": PURPOSE}
    while time.monotonic() < until:
        subject = f"c{number}-{sent}"
        files = [("images", ("a.jpg", images[sent % 6])), ("images", ("b.jpg", images[(sent + 1) % 6]))]
        for operation in ("enroll", "search"):
            started = time.perf_counter()
            try:
                if operation == "enroll":
                    r = await http.post(
                        f"/v1/collections/{COLLECTION}/subjects/{subject}/faces", params=params, files=files
                    )
                else:
                    probe = {"image": ("p.jpg", images[(sent + 2) % 6])}
                    r = await http.post(f"/v1/collections/{COLLECTION}/search", params=params, files=probe)
            except httpx.HTTPError as exc:
                errors[f"{operation}: {type(exc).__name__}"] += 1
                continue
            log[operation].append(time.perf_counter() - started)
            if r.is_success:
                if operation == "enroll":
                    indexed += len(r.json()["indexed_faces"])
            else:
                errors[f"{operation}: {r.status_code} {r.json().get('code', '')}"] += 1
        sent += 1
    return indexed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def load(server: LiveServer, token: str, clients: int, seconds: float) -> dict[str, object]:
    images = photos()
    log: dict[str, list[float]] = {"enroll": [], "search": []}
    errors: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=300, limits=limits) as http:
        started = time.monotonic()
        until = started + seconds
        indexed = await asyncio.gather(*(client(n, http, images, until, log, errors) for n in range(clients)))
        elapsed = time.monotonic() - started
        verify = (await http.get("/v1/ledger/verify", params={"purpose": PURPOSE})).json()
        stored = (await http.get(f"/v1/collections/{COLLECTION}", params={"purpose": PURPOSE})).json()["face_count"]
    total = sum(len(v) for v in log.values())
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": total,
        "requests_per_s": round(total / elapsed, 2),
        "by_operation": {
            op: {
                "requests": len(v),
                "per_s": round(len(v) / elapsed, 2),
                "p50_ms": round(1000 * statistics.median(v), 1) if v else None,
                "p99_ms": round(1000 * percentile(v, 0.99), 1) if v else None,
            }
            for op, v in log.items()
        },
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "ledger_ok": verify["ok"],
        "ledger_entries": verify["entries"],
        "faces_acknowledged": sum(indexed),
        "faces_stored": stored,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--onnx-threads", type=int, default=1)
    parser.add_argument("--out", default="api_load")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "data"
        token = prepare(data_dir)
        server = LiveServer.start(data_dir, args.workers, onnx_threads=args.onnx_threads)
        try:
            result = asyncio.run(load(server, token, args.clients, args.seconds))
        finally:
            server.stop()
    settings = {"embedder": load_settings().embedder, "workers": args.workers, "onnx_threads": args.onnx_threads}
    result = {**settings, **result}
    print(result)
    write_result(args.out, result)


if __name__ == "__main__":
    main()
