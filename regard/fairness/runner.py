"""Audit entry points: embeddings in memory, a third party's score file, or a labelled image manifest.

Group labels always come from people (a manifest column, a score file); nothing here predicts an attribute from
an image.  Images named in a manifest are read from disk to be embedded and nothing of them is kept: no copy,
no thumbnail, no embedding is written anywhere; only the aggregate report leaves the run.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from regard.errors import InvalidInputError, NotFoundError
from regard.evaluation.metrics import threshold_at_fmr
from regard.fairness.evaluate import AuditConfig, GroupSizes, ScoredPairs, compare_normalised, evaluate
from regard.fairness.pairs import build_pairs, encode
from regard.fairness.report import AuditReport, DatasetInfo
from regard.fairness.scorefile import read_score_file
from regard.fairness.scores import score_pairs

FSN_METHOD = "fair score normalization (Terhörst et al. 2020)"


def model_threshold(model_id: str, fmr: float) -> tuple[float, str]:
    """A built-in model's calibrated threshold at ``fmr`` and where it came from (the model registry)."""
    from regard.backends.specs import BUILTIN_MODELS

    key = f"{fmr:.0e}"
    for spec in BUILTIN_MODELS:
        if spec.id == model_id:
            if key not in spec.thresholds:
                raise InvalidInputError(f"{model_id} has no calibrated threshold at FMR {key}; pass one explicitly")
            return spec.thresholds[key], f"registry threshold of {model_id} at FMR {key} ({spec.calibration})"
    raise NotFoundError(f"no built-in model {model_id!r}; pass the threshold explicitly")


def model_version(model_id: str) -> str:
    from regard.backends.specs import BUILTIN_MODELS

    return next((s.version for s in BUILTIN_MODELS if s.id == model_id), "")


def identity_groups(identities: Sequence[str], groups: Sequence[str]) -> dict[str, str]:
    """Each identity's group from per-image labels (empty labels ignored); two labels for one person is an error."""
    out: dict[str, str] = {}
    conflicts = set()
    for identity, group in zip(identities, groups, strict=True):
        if group and out.setdefault(identity, group) != group:
            conflicts.add(identity)
    if conflicts:
        example = sorted(conflicts)[0]
        raise InvalidInputError(
            f"{len(conflicts)} identities have images with different group labels (e.g. {example!r}); "
            "use a column with one label per identity"
        )
    return out


def audit_embeddings(
    embeddings: np.ndarray,
    identities: Sequence[str],
    groups: Sequence[str],
    *,
    system: str,
    threshold: float | None = None,
    found: np.ndarray | None = None,
    system_version: str = "",
    dataset: DatasetInfo | None = None,
    config: AuditConfig | None = None,
    caveats: list[str] | None = None,
) -> AuditReport:
    """Audit a model's embeddings (one row per image) with per-image identities and group labels ('' = none).

    ``threshold`` None takes the built-in model ``system``'s registry threshold at ``config.target_fmr``.
    ``found`` marks images where a face was found; the others take part in no pair and are counted per group.
    """
    config = config or AuditConfig()
    n = embeddings.shape[0]
    if len(identities) != n or len(groups) != n:
        raise InvalidInputError(f"{n} embeddings, {len(identities)} identities, {len(groups)} group labels")
    found = np.ones(n, dtype=bool) if found is None else np.asarray(found, dtype=bool)
    source = "given by the caller"
    if threshold is None:
        threshold, source = model_threshold(system, config.target_fmr)
    labelled = np.asarray([bool(g) for g in groups])
    pairs = build_pairs(identities, identity_groups(identities, groups), labelled & found, config.pairs, config.seed)
    identity, _ = encode(identities)
    scored = ScoredPairs(
        scores=score_pairs(embeddings, pairs.a, pairs.b),
        genuine=pairs.genuine,
        group_a=pairs.group_a,
        group_b=pairs.group_b,
        group_names=pairs.group_names,
        identity_a=identity[pairs.a],
        identity_b=identity[pairs.b],
    )
    label = np.asarray(groups, dtype=str)
    sizes = GroupSizes(
        identities=[int(np.unique(identity[label == g]).size) for g in pairs.group_names],
        images=[int((label == g).sum()) for g in pairs.group_names],
        without_face=[int(((label == g) & ~found).sum()) for g in pairs.group_names],
    )
    dataset = replace(
        dataset or DatasetInfo(name="embeddings"),
        images=int(labelled.sum()),
        identities=int(np.unique(identity[labelled]).size),
        excluded_unlabelled=(dataset.excluded_unlabelled if dataset else 0) + int((~labelled).sum()),
        images_without_face=int((labelled & ~found).sum()),
    )
    report = evaluate(scored, threshold, source, system, system_version, dataset, config, sizes, caveats)
    if config.fsn_clusters:
        report.mitigation = _fsn(embeddings, identities, labelled & found, scored, pairs.a, pairs.b, report, config)
    return report


def _fsn(
    embeddings: np.ndarray,
    identities: Sequence[str],
    usable: np.ndarray,
    scored: ScoredPairs,
    a: np.ndarray,
    b: np.ndarray,
    report: AuditReport,
    config: AuditConfig,
) -> Any:
    from regard.fairness.fsn import FairScoreNormalizer

    fit_fmr = config.fsn_fmr or config.target_fmr
    rows = np.flatnonzero(usable)
    normaliser = FairScoreNormalizer.fit(
        embeddings[rows], [identities[int(i)] for i in rows], fit_fmr, config.fsn_clusters, config.seed
    )
    cluster = normaliser.assign(embeddings)
    normalised = normaliser.normalise(scored.scores, cluster[a], cluster[b])
    return compare_normalised(
        scored,
        normalised,
        report.threshold,
        report.groups,
        FSN_METHOD,
        normaliser.k,
        fit_fmr,
        config.seed,
        int(normaliser.fallback.sum()),
        config.alpha,
    )


def audit_score_file(
    path: Path,
    *,
    threshold: float | None = None,
    system: str = "third-party system",
    system_version: str = "",
    dataset: DatasetInfo | None = None,
    config: AuditConfig | None = None,
    caveats: list[str] | None = None,
) -> AuditReport:
    """Audit a score file (see :mod:`regard.fairness.scorefile`).

    ``threshold`` None picks the threshold at ``config.target_fmr`` on the file's pooled within-group impostor
    scores, and the report says so.
    """
    config = config or AuditConfig()
    parsed = read_score_file(path)
    scored = parsed.scored
    source = "given by the auditor"
    if threshold is None:
        within = ~scored.genuine & (scored.group_a == scored.group_b)
        if not within.any():
            raise InvalidInputError(f"{path}: no impostor pairs within a group to pick a threshold on")
        threshold = threshold_at_fmr(scored.scores[within], config.target_fmr)
        source = f"picked at FMR {config.target_fmr:g} on the file's pooled within-group impostor scores"
    dataset = replace(
        dataset or DatasetInfo(name=path.name, description="third-party score file"),
        identities=len(parsed.identity_names) if parsed.identity_names else None,
        excluded_unlabelled=parsed.excluded_unlabelled,
    )
    return evaluate(scored, threshold, source, system, system_version, dataset, config, None, caveats, sampled=False)


@dataclass(frozen=True)
class Manifest:
    paths: list[Path]
    identities: list[str]
    groups: list[str]  # '' where the row has no label


def read_manifest(manifest_csv: Path, images_root: Path, group_column: str) -> Manifest:
    """Rows ``path,identity,<group columns...>``; paths are relative to ``images_root`` and must stay inside it."""
    root = images_root.resolve()
    try:
        with manifest_csv.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            for needed in ("path", "identity", group_column):
                if needed not in columns:
                    raise InvalidInputError(f"{manifest_csv}: no column {needed!r} (columns: {', '.join(columns)})")
            rows = list(reader)
    except OSError as exc:
        raise InvalidInputError(f"{manifest_csv}: {exc.strerror}") from None
    paths = []
    for line, row in enumerate(rows, start=2):
        path = (root / (row["path"] or "")).resolve()
        if not path.is_relative_to(root) or not row["identity"]:
            raise InvalidInputError(f"{manifest_csv}:{line}: needs an identity and a path inside {images_root}")
        paths.append(path)
    return Manifest(paths, [r["identity"] for r in rows], [(r[group_column] or "").strip() for r in rows])


def audit_manifest(
    manifest_csv: Path,
    images_root: Path,
    group_column: str,
    *,
    model_id: str = "sface",
    threshold: float | None = None,
    config: AuditConfig | None = None,
    settings: dict[str, Any] | None = None,
    processes: int = 0,
    description: str = "",
    caveats: list[str] | None = None,
    engine: str = "processes",
) -> AuditReport:
    """Embed the manifest's images with ``model_id`` (one face per image, the largest) and audit them.

    ``settings`` are :class:`regard.settings.Settings` fields for the engine (model cache, detector...).
    The images are only read; the embeddings live in memory for the run and are dropped with it.
    """
    from regard.evaluation.imagesets import embed_paths

    manifest = read_manifest(manifest_csv, images_root, group_column)
    rows = [i for i, group in enumerate(manifest.groups) if group]  # unlabelled rows are not even read
    if not rows:
        raise InvalidInputError(f"{manifest_csv}: no row has a label in {group_column!r}")
    paths = [manifest.paths[i] for i in rows]
    if engine == "ray":  # Ray Data actors, batched detection and embedding, resumable (regard.batch)
        from regard.batch.jobs import JobOptions, embed_job

        embedded = embed_job(paths, model_id, settings or {}, JobOptions("ray", workers=processes or 2))
    else:
        embedded = embed_paths(paths, model_id, settings or {}, processes, pick="largest")
    dataset = DatasetInfo(
        name=manifest_csv.name,
        description=description or f"images listed in {manifest_csv.name}",
        group_column=group_column,
        label_source=f"the manifest column {group_column!r}, supplied by the auditor (never inferred from images)",
        excluded_unlabelled=len(manifest.paths) - len(rows),
    )
    return audit_embeddings(
        embedded.vectors,
        [manifest.identities[i] for i in rows],
        [manifest.groups[i] for i in rows],
        system=model_id,
        threshold=threshold,
        found=embedded.found,
        system_version=model_version(model_id),
        dataset=dataset,
        config=config,
        caveats=caveats,
    )
