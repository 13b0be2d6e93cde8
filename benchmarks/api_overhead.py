"""HTTP cost: the same search through the API and through the library, interleaved in one run.

The library call is ``Regard.search`` in this process with a context from the
same API key; the API call is ``POST /v1/collections/{name}/search`` on
`regard serve` (one worker) over loopback with a keep-alive connection, so it
adds the upload, multipart parsing, authentication, rate limiting, JSON and
the socket.  Two clients: ``http.client`` sending the request's bytes prepared
once (a tuned client or a load generator: what is left is the server's cost
and the socket's), and httpx, a popular Python client whose own work per call
is counted too.  Both sides use one onnxruntime thread and the same small
probe photo (the cost of HTTP stays the same while the search gets dearer with
bigger photos).  A second pair searches with a stored face as the probe: no
image work, so the HTTP cost stands out from the machine's noise.  Calls
alternate library/API in adjacent pairs, in blocks; per block, the p50 of each
and the median of the pairs' differences; over blocks, the median and the spread.

    python benchmarks/api_overhead.py --blocks 5 --calls 100     # the default profile: results/api_overhead.json
    REGARD_EMBEDDER=fast python benchmarks/api_overhead.py       # results/api_overhead_fast.json
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from http.client import HTTPConnection
from pathlib import Path

import httpx
import numpy as np
import psutil
from _common import result_name, write_result
from PIL import Image
from skimage import data

from regard.context import CallContext
from regard.evaluation.live_server import COLLECTION, PURPOSE, LiveServer, prepare
from regard.service import Regard
from regard.settings import load_settings


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


Call = Callable[[], None]


def _calls(
    svc: Regard, ctx: CallContext, url: str, token: str, http: httpx.Client, probe: bytes, face_id: str
) -> dict[str, tuple[Call, Call]]:
    """Pairs (library, API) per probe kind and client: a keep-alive ``http.client`` connection sending prepared
    bytes (what a tuned client or a load generator does), and httpx, a popular Python client (its own cost,
    ~0.6-1 ms a call here, is in its numbers)."""
    search, by_face = f"/v1/collections/{COLLECTION}/search", f"/v1/collections/{COLLECTION}/search/face"
    params = {"purpose": PURPOSE}
    upload = http.build_request("POST", search, params=params, files={"image": ("p.jpg", probe)})
    form, form_type = upload.read(), upload.headers["content-type"]
    face_body = json.dumps({"face_id": face_id}).encode()
    host, port = url.removeprefix("http://").split(":")
    raw = HTTPConnection(host, int(port))
    auth = {"Authorization": f"Bearer {token}"}

    def raw_post(path: str, body: bytes, content_type: str) -> None:
        raw.request("POST", f"{path}?purpose={PURPOSE}", body, {**auth, "Content-Type": content_type})
        response = raw.getresponse()
        assert response.status == 200 and json.loads(response.read())["matched"]

    def httpx_post(path: str, body: bytes, content_type: str) -> None:
        r = http.post(path, params=params, content=body, headers={"content-type": content_type})
        assert r.status_code == 200 and r.json()["matched"]

    def by_image() -> None:
        assert svc.search(COLLECTION, probe, ctx).results[0].matches

    def by_stored_face() -> None:
        assert svc.search_by_face(COLLECTION, face_id, ctx).results[0].matches

    return {
        "search_by_image": (by_image, lambda: raw_post(search, form, form_type)),
        "search_by_face": (by_stored_face, lambda: raw_post(by_face, face_body, "application/json")),
        "search_by_image_httpx": (by_image, lambda: httpx_post(search, form, form_type)),
        "search_by_face_httpx": (by_stored_face, lambda: httpx_post(by_face, face_body, "application/json")),
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
                calls = _calls(svc, ctx, server.url, token, http, probe, face_id)
                for kind, (lib, web) in calls.items():
                    # warm up models, indexes and the connection right before: the server closes a keep-alive
                    # connection left idle for 5 s, as it would for any client
                    for _ in range(20):
                        lib()
                        web()
                    results[kind] = [measure_block(lib, web, args.calls, process) for _ in range(args.blocks)]
                    for block in results[kind]:
                        print(kind, block)
        finally:
            server.stop()
    embedder = load_settings().embedder
    result: dict[str, object] = {
        "embedder": embedder,
        "probe_px": [220, 240],
        "subjects": args.subjects,
        "calls_per_block": args.calls,
    }
    for kind, blocks in results.items():
        paired = [b["paired_difference_p50_ms"] for b in blocks]
        cpu = [b["cpu_difference_ms"] for b in blocks]
        result[kind] = {
            "blocks": blocks,
            "library_p50_ms_median": round(statistics.median(b["library_p50_ms"] for b in blocks), 3),
            "api_p50_ms_median": round(statistics.median(b["api_p50_ms"] for b in blocks), 3),
            "paired_difference_p50_ms_median": round(statistics.median(paired), 3),
            "paired_difference_p50_ms_spread": [min(paired), max(paired)],
            "cpu_difference_ms_median": round(statistics.median(cpu), 3),
            "cpu_difference_ms_spread": [min(cpu), max(cpu)],
        }
    print(result)
    write_result(result_name("api_overhead", embedder), result)


if __name__ == "__main__":
    main()
