"""`regard serve` in a child process on a free loopback port: for the load benchmark and the crash test.

The data directory is prepared first through the library (a tenant, a declared
purpose, a key with every tenant role, a collection), so the server's callers
start from a known state.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from regard.context import CallContext

TENANT, PURPOSE, COLLECTION = "load", "load-test", "people"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def prepare(data_dir: Path, model_cache: Path | None = None) -> str:
    """A tenant, a purpose, a collection and an API key with every tenant role; returns the key."""
    from regard.service import Regard

    with Regard(data_dir=data_dir, model_cache_dir=model_cache) as svc:
        svc.create_tenant(TENANT, CallContext.local())
        ctx = CallContext.local(TENANT, PURPOSE)
        svc.declare_purpose(
            PURPOSE,
            ctx,
            category="photo-organisation",
            legal_basis="legitimate-interests",
            data_subjects="synthetic load",
            retention_days=30,
            max_collection_subjects=10_000_000,
            consequential=False,
        )
        svc.create_collection(COLLECTION, ctx)
        roles = ["admin", "operator", "auditor"]
        return svc.create_api_key(roles, CallContext.local(TENANT), owner="load-tester").token


@dataclass
class LiveServer:
    """A running server; ``kill()`` SIGKILLs it and every worker (they share its process group)."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @classmethod
    def start(
        cls, data_dir: Path, workers: int, model_cache: Path | None = None, onnx_threads: int = 1, **env: str
    ) -> LiveServer:
        port = free_port()
        environment = {
            **os.environ,
            "REGARD_DATA_DIR": str(data_dir),
            "REGARD_ONNX_THREADS": str(onnx_threads),
            "REGARD_RATE_LIMIT_PER_S": "0",
            **({"REGARD_MODEL_CACHE_DIR": str(model_cache)} if model_cache else {}),
            **env,
        }
        environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
        log = data_dir / f"server-{port}.log"
        command = [sys.executable, "-c", "from regard.cli.app import run; run()", "serve"]
        command += ["--port", str(port), "--workers", str(workers)]
        with log.open("wb") as handle:
            process = subprocess.Popen(
                command, env=environment, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
            )
        server = cls(process, f"http://127.0.0.1:{port}", log)
        server.wait_ready(workers)
        return server

    def wait_ready(self, workers: int, timeout_s: float = 120.0) -> None:
        """Until /readyz answers and every worker has started."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            started = self.log.read_text().count("Application startup complete")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as response:
                    if response.status == 200 and started >= workers:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"the server was not ready within {timeout_s} s: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL the server and its workers at once: nothing gets to flush or clean up."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
