"""One place that configures onnxruntime sessions (threads, providers, spinning)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regard.errors import ModelUnavailableError


@dataclass(frozen=True)
class RuntimeOptions:
    threads: int = 0  # 0: onnxruntime's default (one per core)
    providers: tuple[str, ...] = field(default_factory=tuple)  # empty: best available
    batch_size: int = 0  # 0: 1 on CPU, 64 on GPU

    def effective_batch_size(self, providers: list[str]) -> int:
        if self.batch_size:
            return self.batch_size
        return 64 if any(p != "CPUExecutionProvider" for p in providers) else 1


def available_providers() -> list[str]:
    import onnxruntime as ort

    preferred = ("CUDAExecutionProvider", "CPUExecutionProvider")
    have = ort.get_available_providers()
    return [p for p in preferred if p in have] or ["CPUExecutionProvider"]


def make_session(path: Path, options: RuntimeOptions) -> Any:
    """An ``onnxruntime.InferenceSession`` for ``path``; raises ModelUnavailableError on failure."""
    import onnxruntime as ort

    session_options = ort.SessionOptions()
    session_options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session_options.log_severity_level = 3
    if options.threads:
        session_options.intra_op_num_threads = options.threads
    session_options.inter_op_num_threads = 1
    # With spinning on, idle ORT threads burn the core Python needs between runs.
    session_options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers = list(options.providers) or available_providers()
    try:
        return ort.InferenceSession(str(path), session_options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelUnavailableError(f"cannot load ONNX model {path}: {exc}") from exc
