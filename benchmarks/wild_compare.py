"""1:1 decisions on in-the-wild photos: a fixed, seeded, balanced pair protocol over CelebA-in-the-wild.

Two parts, per model or profile:

* Face choice, on all genuine pairs (45 per identity, 5,400) and as many impostor
  pairs: every face of every photo is embedded once, then each pair is scored as
  ``compare`` would with three choices: the largest face of each photo; the first
  photo's largest face against every face of the second (Rekognition CompareFaces,
  Regard's ``compare``); every face against every face (``--all-faces``).
* The real path: ``Regard.compare`` (governed, ledgered) on a seeded subset,
  ``--per-identity`` genuine pairs per identity and as many impostor pairs, in
  worker processes; the decision at the profile's calibrated thresholds.  The
  similarities are checked against the first part's.

A photo where no face is found makes its pairs non-matches (compare raises
NoFaceError): an error for a genuine pair, a correct decision for an impostor pair.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from typing import Any

import numpy as np
from _common import CACHE, SHARED_DATA, every_face, require, write_result

from regard.evaluation.protocol import Pairs, balanced_pairs, decisions

CHOICES = {
    "largest_vs_largest": (1, 1),
    "largest_vs_every_face": (1, 0),  # what compare does
    "every_face_vs_every_face": (0, 0),  # compare --all-faces
}

_state: dict[str, Any] = {}


def manifest() -> tuple[list[str], list[str]]:
    root = require(SHARED_DATA / "celeba_wild")
    with (root / "manifest.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    return [str(root / r["path"]) for r in rows], [r["identity"] for r in rows]


def choice_scores(faces: list[np.ndarray], pairs: Pairs, rows: int, cols: int) -> np.ndarray:
    """Best cosine per pair over the first ``rows`` faces of A and ``cols`` of B (0: all); -1 without a face."""
    out = np.full(pairs.a.size, -1.0)
    for k, (a, b) in enumerate(zip(pairs.a, pairs.b, strict=True)):
        fa, fb = faces[a][: rows or None], faces[b][: cols or None]
        if fa.size and fb.size:
            out[k] = float((fa @ fb.T).max())
    return out


def _init_compare(settings: dict[str, Any]) -> None:
    from regard import CallContext, Regard

    service = Regard(data_dir=tempfile.mkdtemp(prefix="regard-wild-"), onnx_threads=1, **settings)
    ctx = CallContext(actor="benchmark", purpose="wild-benchmark")
    service.declare_purpose(
        "wild-benchmark",
        ctx,
        category="identity-verification",
        legal_basis="legitimate-interests",
        data_subjects="CelebA research photos",
        retention_days=1,
        max_collection_subjects=1,
        consequential=False,
    )
    _state["service"], _state["ctx"] = service, ctx


def _compare(job: tuple[str, str, str]) -> tuple[float, bool]:
    from regard.errors import NoFaceError

    a, b, model = job
    try:
        best = _state["service"].compare(a, b, _state["ctx"], model=model).best.decision
    except NoFaceError:
        return -1.0, False
    return best.similarity, best.match


def compare_path(paths: list[str], pairs: Pairs, model: str, processes: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Similarity and decision (at the default operating point) of ``Regard.compare`` on every pair."""
    jobs = [(paths[a], paths[b], model) for a, b in zip(pairs.a, pairs.b, strict=True)]
    settings = {"model_cache_dir": str(CACHE / "models")}
    start = time.time()
    with ProcessPoolExecutor(processes, initializer=_init_compare, initargs=(settings,)) as pool:
        results = list(pool.map(_compare, jobs, chunksize=16))
    seconds = time.time() - start
    return np.asarray([r[0] for r in results]), np.asarray([r[1] for r in results]), seconds


def rounded(report: Any) -> dict[str, Any]:
    def r(v: Any) -> Any:
        if isinstance(v, float):
            return round(v, 5)
        if isinstance(v, dict):
            return {k: r(x) for k, x in v.items()}
        return v

    return {k: r(v) for k, v in asdict(report).items()}


def main() -> None:
    from regard.backends.specs import BUILTIN_MODELS
    from regard.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="+", default=["fast", "accurate", "sface", "dlib-resnet"])
    parser.add_argument("--compare", nargs="*", default=["fast", "accurate"], help="profiles run through compare")
    parser.add_argument("--per-identity", type=int, default=0, help="genuine pairs per identity (0: all)")
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    paths, identities = manifest()
    specs = {s.id: s for s in BUILTIN_MODELS}
    default_fmr = f"{Settings(data_dir=tempfile.gettempdir()).default_fmr:.0e}"
    study = balanced_pairs(identities)
    subset = balanced_pairs(identities, genuine_per_identity=args.per_identity)
    out: dict[str, Any] = {}
    for model in args.models:
        thresholds = specs[model].thresholds
        faces = every_face(paths, model)
        entry: dict[str, Any] = {
            "face_choice_all_pairs": {
                name: rounded(decisions(choice_scores(faces, study, *shape), study.same, thresholds))
                for name, shape in CHOICES.items()
            }
        }
        if model in args.compare:
            similarity, match, seconds = compare_path(paths, subset, model, args.processes)
            cached = choice_scores(faces, subset, *CHOICES["largest_vs_every_face"])
            entry["compare_path"] = {
                **rounded(decisions(similarity, subset.same, thresholds)),
                "accuracy_of_compare_decisions": round(float(np.mean(match == subset.same)), 5),
                "max_abs_difference_from_cached": round(float(np.abs(similarity - cached).max()), 6),
                "seconds": round(seconds, 1),
            }
        out[model] = entry
        print(model, {k: v["accuracy_at"] for k, v in entry["face_choice_all_pairs"].items()}, flush=True)
        if "compare_path" in entry:
            print(model, "compare path", entry["compare_path"]["accuracy_at"], flush=True)
    write_result(
        "wild_compare",
        {
            "data": "CelebA in the wild, 1,200 uncropped photos of 120 people (some with several people)",
            "default_fmr": default_fmr,
            "face_choice_protocol": f"all {int(study.same.sum())} genuine pairs and as many impostor pairs, seed 0",
            "compare_protocol": (
                f"{args.per_identity} genuine pairs per identity ({int(subset.same.sum())}) and as many impostor"
                " pairs, seed 0, through Regard.compare"
            ),
            **out,
        },
    )


if __name__ == "__main__":
    main()
