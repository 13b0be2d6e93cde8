"""The ONNX rewrites: dequantisation rules of opset 21, the PRelu rewrite, the cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from regard.backends.onnx_prepare import PrepareOptions, dequantize, prepared_model_path


def test_dequantize_per_tensor_ignores_block_size() -> None:
    x = np.array([[-2, 0, 4]], dtype=np.int8)
    out = dequantize(x, np.array(0.5, np.float32), np.array(1, np.int8), axis=1, block_size=3)
    assert np.allclose(out, [[-1.5, -0.5, 1.5]])


def test_dequantize_per_axis() -> None:
    x = np.array([[1, 2], [3, 4]], dtype=np.int8)
    out = dequantize(x, np.array([1.0, 10.0], np.float32), None, axis=0, block_size=0)
    assert np.allclose(out, [[1, 2], [30, 40]])


def test_dequantize_blocked() -> None:
    x = np.arange(10, dtype=np.int8).reshape(2, 5)
    scale = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)  # blocks of 3 along axis 1
    zero = np.array([[0, 1], [0, 1]], np.int8)
    out = dequantize(x, scale, zero, axis=1, block_size=3)
    expected = np.array([[0, 1, 2, (3 - 1) * 2, (4 - 1) * 2], [15, 18, 21, (8 - 1) * 4, (9 - 1) * 4]], np.float32)
    assert np.allclose(out, expected)


def _prelu_model(path: Path) -> None:
    slope = numpy_helper.from_array(np.array([[[0.1]], [[0.2]], [[0.3]]], np.float32), "slope")
    node = helper.make_node("PRelu", ["x", "slope"], ["y"])
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 4])],
        [slope],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_prelu_rewrite_gives_identical_outputs(tmp_path: Path) -> None:
    source = tmp_path / "prelu.onnx"
    _prelu_model(source)
    prepared = prepared_model_path(source, tmp_path / "cache", PrepareOptions())
    assert "PRelu" not in {n.op_type for n in onnx.load(str(prepared)).graph.node}
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 4)).astype(np.float32)
    before = ort.InferenceSession(str(source)).run(None, {"x": x[:1]})[0]
    after = ort.InferenceSession(str(prepared)).run(None, {"x": x})[0]  # batch is free now
    assert np.array_equal(before, after[:1])
    assert after.shape[0] == 2


def test_prepared_file_is_cached(tmp_path: Path) -> None:
    source = tmp_path / "prelu.onnx"
    _prelu_model(source)
    first = prepared_model_path(source, tmp_path / "cache", PrepareOptions())
    stamp = first.stat().st_mtime_ns
    again = prepared_model_path(source, tmp_path / "cache", PrepareOptions())
    assert again == first and again.stat().st_mtime_ns == stamp
