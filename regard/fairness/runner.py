"""Audit entry points over data already in memory: a model's embeddings, or a third party's score file.

Pure functions over vectors, scores and labels: nothing here reads images, a model registry or a store.  Regard
embeds images for an audit in :mod:`regard.operations.audits` (the governed service operation) and
:mod:`regard.evaluation.imagesets`; both end here.  Group labels always come from people or from sources the
caller names (:class:`regard.fairness.labels.LabelProvenance`); nothing here predicts an attribute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from regard.errors import InvalidInputError
from regard.evaluation.metrics import threshold_at_fmr
from regard.fairness.evaluate import AuditConfig, GroupSizes, ScoredPairs, evaluate
from regard.fairness.pairs import PairSet, build_pairs, encode
from regard.fairness.report import AuditReport, DatasetInfo, Provenance
from regard.fairness.scorefile import parse_score_file
from regard.fairness.scores import score_pairs


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
    threshold: float,
    dataset: DatasetInfo,
    threshold_source: str = "given by the caller",
    found: np.ndarray | None = None,
    system_version: str = "",
    config: AuditConfig | None = None,
    caveats: list[str] | None = None,
    provenance: Provenance | None = None,
    fsn_fitted: dict[tuple[int, float, int], Any] | None = None,
) -> AuditReport:
    """Audit a model's embeddings (one row per image) with per-image identities and group labels ('' = none).

    ``dataset.labels`` says who assigned the labels and how.  ``found`` marks images where a face was found;
    the others take part in no pair and are counted per group.  ``provenance`` defaults to the embeddings
    route (vectors supplied by the caller, which no one has vouched for).  ``fsn_fitted`` caches fair score
    normalisers across audits of the same embeddings (see :func:`regard.fairness.mitigation.fsn_mitigation`).
    """
    config = config or AuditConfig()
    found = np.ones(embeddings.shape[0], dtype=bool) if found is None else np.asarray(found, dtype=bool)
    pairs, scored = scored_pairs(embeddings, identities, groups, found, config)
    identity, _ = encode(identities)
    labelled = np.asarray([bool(g) for g in groups])
    label = np.asarray(groups, dtype=str)
    sizes = GroupSizes(
        identities=[int(np.unique(identity[label == g]).size) for g in pairs.group_names],
        images=[int((label == g).sum()) for g in pairs.group_names],
        without_face=[int(((label == g) & ~found).sum()) for g in pairs.group_names],
    )
    dataset = replace(
        dataset,
        images=int(labelled.sum()),
        identities=int(np.unique(identity[labelled]).size),
        excluded_unlabelled=dataset.excluded_unlabelled + int((~labelled).sum()),
        images_without_face=int((labelled & ~found).sum()),
    )
    provenance = provenance or Provenance(route="embeddings", producer="the caller")
    report = evaluate(
        scored, threshold, threshold_source, system, system_version, dataset, config, provenance, sizes, caveats
    )
    if config.fsn_clusters:
        from regard.fairness.mitigation import fsn_mitigation

        report.mitigation = fsn_mitigation(
            embeddings, identities, found, scored, pairs.a, pairs.b, threshold, report.groups, config, fsn_fitted
        )
    return report


def scored_pairs(
    embeddings: np.ndarray, identities: Sequence[str], groups: Sequence[str], found: np.ndarray, config: AuditConfig
) -> tuple[PairSet, ScoredPairs]:
    """The audit's pairs (every genuine pair, sampled impostor pairs) over labelled images with a face, scored."""
    n = embeddings.shape[0]
    if len(identities) != n or len(groups) != n or found.shape != (n,):
        raise InvalidInputError(f"{n} embeddings, {len(identities)} identities, {len(groups)} group labels")
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
    return pairs, scored


def audit_score_file(
    source: Path | bytes,
    *,
    dataset: DatasetInfo,
    threshold: float | None = None,
    system: str = "third-party system",
    system_version: str = "",
    config: AuditConfig | None = None,
    caveats: list[str] | None = None,
    provenance: Provenance | None = None,
) -> AuditReport:
    """Audit a score file (see :mod:`regard.fairness.scorefile`): a path, or the file's bytes.

    ``threshold`` None picks the threshold at ``config.target_fmr`` on the file's pooled within-group impostor
    scores, and the report says so.  ``dataset.labels`` says who assigned the file's group labels and how.
    """
    config = config or AuditConfig()
    name = source.name if isinstance(source, Path) else dataset.name
    parsed = parse_score_file(_read(source), name)
    scored = parsed.scored
    threshold_source = "given by the auditor"
    if threshold is None:
        within = ~scored.genuine & (scored.group_a == scored.group_b)
        if not within.any():
            raise InvalidInputError(f"{name}: no impostor pairs within a group to pick a threshold on")
        threshold = threshold_at_fmr(scored.scores[within], config.target_fmr)
        threshold_source = f"picked at FMR {config.target_fmr:g} on the file's pooled within-group impostor scores"
    dataset = replace(
        dataset,
        identities=len(parsed.identity_names) if parsed.identity_names else None,
        excluded_unlabelled=parsed.excluded_unlabelled,
    )
    provenance = provenance or Provenance(route="score-file", producer="the caller")
    return evaluate(
        scored,
        threshold,
        threshold_source,
        system,
        system_version,
        dataset,
        config,
        provenance,
        None,
        caveats,
        sampled=False,
    )


def _read(source: Path | bytes) -> bytes:
    if isinstance(source, bytes | bytearray):
        return bytes(source)
    try:
        return source.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"{source}: {exc.strerror}") from None
