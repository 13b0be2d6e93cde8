"""Pair scoring on a GPU through onnxruntime, when one is present.

A four-node graph (Gather, Gather, Mul, ReduceSum) scores a chunk of pairs on
the device; the embedding matrix is sent once per chunk.  Without a GPU the
same graph runs on onnxruntime's CPU provider, which is how the tests check it
gives numpy's numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CHUNK = 4_000_000  # pairs per run: two int64 index arrays plus scores, ~100 MB on the device


def gpu_available() -> bool:
    try:
        import onnxruntime as ort
    except ImportError:
        return False
    return "CUDAExecutionProvider" in ort.get_available_providers()


def _graph() -> bytes:
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Gather", ["unit", "a"], ["rows_a"], axis=0),
        helper.make_node("Gather", ["unit", "b"], ["rows_b"], axis=0),
        helper.make_node("Mul", ["rows_a", "rows_b"], ["products"]),
        helper.make_node("ReduceSum", ["products", "axis"], ["scores"], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "pair_scores",
        [
            helper.make_tensor_value_info("unit", TensorProto.FLOAT, ["n", "d"]),
            helper.make_tensor_value_info("a", TensorProto.INT64, ["m"]),
            helper.make_tensor_value_info("b", TensorProto.INT64, ["m"]),
        ],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["m"])],
        [helper.make_tensor("axis", TensorProto.INT64, [1], [1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return bytes(model.SerializeToString())


class OnnxPairScorer:
    """Scores pairs of rows of a unit-norm matrix with onnxruntime (CUDA when ``provider`` says so)."""

    def __init__(self, provider: str = "CUDAExecutionProvider") -> None:
        import onnxruntime as ort

        self.provider = provider
        self._session: Any = ort.InferenceSession(_graph(), providers=[provider])

    def __call__(self, unit: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        unit = np.ascontiguousarray(unit, dtype=np.float32)
        out = np.empty(a.size, dtype=np.float32)
        for start in range(0, a.size, CHUNK):
            stop = start + CHUNK
            feeds = {
                "unit": unit,
                "a": np.ascontiguousarray(a[start:stop], dtype=np.int64),
                "b": np.ascontiguousarray(b[start:stop], dtype=np.int64),
            }
            out[start:stop] = self._session.run(None, feeds)[0]
        return out
