"""HTTP cost: the same search through the API and through the library, interleaved in one run.

The library call is ``Regard.search`` in this process with a context from the
same API key; the API call is ``POST /v1/collections/{name}/search`` on
`regard serve` (one worker) over loopback with a keep-alive connection, so it
adds the upload, multipart parsing, authentication, rate limiting, JSON and
the socket.  Both use one onnxruntime thread and the same small probe photo
(the cost of HTTP stays the same while the search gets dearer with bigger
photos).  A second pair searches with a stored face as the probe: no image work,
so the HTTP cost stands out from the machine's noise.  Calls alternate
library/API in adjacent pairs, in blocks; per block, the p50 of each and the
median of the pairs' differences; over blocks, the median and the spread.

    python benchmarks/api_overhead.py --blocks 5 --calls 100
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import psutil
from _common import write_result
from PIL import Image
from skimage import data

from regard.evaluation.live_server import COLLECTION, PURPOSE, LiveServer, prepare
from regard.service import Regard


def jpeg(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="JPEG")
    return buffer.getvalue()


def enroll_people(data_dir: Path, token: str, subjects: int) -> None:
    astronaut = data.astronaut()
    with Regard(data_dir=data_dir, onnx_threads=1) as svc:
        ctx = svc.authenticate(token, PURPOSE)
        for i in range(subjects):
            d = i % 40
            svc.enroll(COLLECTION, f"s{i}", [jpeg(astronaut[d:, d:])], ctx)


def measure_block(
    library: Callable[[], None], api: Callable[[], None], calls: int, server: psutil.Process
) -> dict[str, float]:
    """``calls`` adjacent pairs, the order alternating (LA AL LA ...).

    Wall time: the p50 of each and the median of the pairs' differences.  CPU
    time, which waiting for a busy machine's cores does not inflate: the
    library call's, and the API call's in this process (the client) plus the
    server's (its CPU over the block: it is idle while the library runs).
    """
    wall: dict[str, list[float]] = {"library": [], "api": []}
    cpu = {"library": 0.0, "api": 0.0}
    differences = []
    server_before = sum(server.cpu_times()[:2])
    for i in range(calls):
        order = [("library", library), ("api", api)]
        for kind, call in order if i % 2 == 0 else order[::-1]:
            started, started_cpu = time.perf_counter(), time.process_time()
            call()
            wall[kind].append(time.perf_counter() - started)
            cpu[kind] += time.process_time() - started_cpu
        differences.append(wall["api"][-1] - wall["library"][-1])
    server_cpu = sum(server.cpu_times()[:2]) - server_before
    return {
        "library_p50_ms": round(1000 * statistics.median(wall["library"]), 3),
        "api_p50_ms": round(1000 * statistics.median(wall["api"]), 3),
        "paired_difference_p50_ms": round(1000 * statistics.median(differences), 3),
        "library_cpu_ms": round(1000 * cpu["library"] / calls, 3),
        "api_cpu_ms": round(1000 * (cpu["api"] + server_cpu) / calls, 3),
        "api_client_cpu_ms": round(1000 * cpu["api"] / calls, 3),
        "cpu_difference_ms": round(1000 * (cpu["api"] + server_cpu - cpu["library"]) / calls, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--calls", type=int, default=100, help="Calls of each kind per block.")
    parser.add_argument("--subjects", type=int, default=50)
    args = parser.parse_args()
    probe = jpeg(data.astronaut()[10:250, 120:340])  # the face and some background, 220 x 240 px
    results: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "data"
        token = prepare(data_dir)
        enroll_people(data_dir, token, args.subjects)
        server = LiveServer.start(data_dir, workers=1, onnx_threads=1)
        try:
            with (
                Regard(data_dir=data_dir, onnx_threads=1) as svc,
                httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as http,
            ):
                ctx = svc.authenticate(token, PURPOSE, origin="library")

                face_id = svc.list_faces(COLLECTION, ctx, limit=1).items[0].face_id
                process = psutil.Process(server.process.pid)
                params = {"purpose": PURPOSE}

                def by_image_library() -> None:
                    assert svc.search(COLLECTION, probe, ctx).results[0].matches

                def by_image_api() -> None:
                    files = {"image": ("p.jpg", probe)}
                    r = http.post(f"/v1/collections/{COLLECTION}/search", params=params, files=files)
                    assert r.status_code == 200 and r.json()["matched"]

                def by_face_library() -> None:
                    assert svc.search_by_face(COLLECTION, face_id, ctx).results[0].matches

                def by_face_api() -> None:
                    r = http.post(f"/v1/collections/{COLLECTION}/search/face", params=params, json={"face_id": face_id})
                    assert r.status_code == 200 and r.json()["matched"]

                calls = {"image": (by_image_library, by_image_api), "face": (by_face_library, by_face_api)}
                for lib, web in calls.values():  # warm up: models, indexes, connections
                    for _ in range(20):
                        lib()
                        web()
                for probe_kind, (lib, web) in calls.items():
                    results[probe_kind] = [measure_block(lib, web, args.calls, process) for _ in range(args.blocks)]
                    for block in results[probe_kind]:
                        print(probe_kind, block)
        finally:
            server.stop()
    result: dict[str, object] = {"probe_px": [220, 240], "subjects": args.subjects, "calls_per_block": args.calls}
    for probe_kind, blocks in results.items():
        paired = [b["paired_difference_p50_ms"] for b in blocks]
        cpu = [b["cpu_difference_ms"] for b in blocks]
        result[f"search_by_{probe_kind}"] = {
            "blocks": blocks,
            "library_p50_ms_median": round(statistics.median(b["library_p50_ms"] for b in blocks), 3),
            "api_p50_ms_median": round(statistics.median(b["api_p50_ms"] for b in blocks), 3),
            "paired_difference_p50_ms_median": round(statistics.median(paired), 3),
            "paired_difference_p50_ms_spread": [min(paired), max(paired)],
            "cpu_difference_ms_median": round(statistics.median(cpu), 3),
            "cpu_difference_ms_spread": [min(cpu), max(cpu)],
        }
    print(result)
    write_result("api_overhead", result)


if __name__ == "__main__":
    main()
