"""The fairness card: a demographic audit of any registry model on LFW, by gender and by a race proxy.

    python benchmarks/fairness_lfw.py [--model sface --model dlib-resnet ...] [--fmr 1e-4] [--no-sensitivity]

Uses the cached LFW embeddings of benchmarks/embed_lfw.py (one face per image: the one nearest the centre, LFW's
subject) and the group columns of ../shared/data/lfw/manifest.csv (identity_gender: assigned by people;
identity_race_proxy: MACHINE-DERIVED, see the caveats).  The operating threshold is each model's registry threshold
at ``--fmr`` (1e-4 unless said; the accuracy profiles' cards are made at their default, 1e-3), so any registry id
(a user model, an accuracy profile) is one ``--model`` away.  Fair score normalisation is fitted with several
seeds and never recommended where any seed widens a differential.  Writes
docs/fairness/<model>_<grouping>.{json,md,html}, docs/fairness/README.md and
benchmarks/results/fairness_lfw_<model>.json.  The cards are not signed: they document, they activate nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from _common import CACHE, RESULTS, ROOT, SHARED_DATA, write_result
from embed_lfw import lfw_embeddings

from regard import __version__
from regard.backends.calibration import threshold_for
from regard.backends.registry import ModelRegistry
from regard.backends.runtime import RuntimeOptions
from regard.evaluation.manifest import evaluation_set_digest, read_manifest
from regard.fairness import AuditConfig, AuditReport, DatasetInfo, LabelProvenance, PairConfig, Provenance, load_report
from regard.fairness.markdown import fmt_ci, fmt_num, fmt_rate, mitigation_summary, spread
from regard.fairness.mitigation import fsn_mitigation
from regard.fairness.runner import audit_embeddings, scored_pairs

DOCS = ROOT / "docs" / "fairness"
LFW = SHARED_DATA / "lfw"
TARGET_FMR = 1e-4  # the operating point unless --fmr says another (the profiles run at 1e-3 by default)
FACE = "center"  # the face nearest the centre: LFW's subject (the CLI's default too)
FSN_CLUSTERS = 25  # about 530 images a cluster: ~140k within-cluster impostor pairs, ~14 false matches at 1e-4
FSN_SEEDS = 5
SENSITIVITY = [(k, f) for k in (10, 25, 50, 100) for f in (1e-3, 1e-4)]
DEFAULT_MODELS = ["sface", "dlib-resnet"]
PROFILES = ["accurate", "fast"]  # listed first in the README: what users get; audited at --fmr 1e-3

GROUPINGS = {
    "gender": (
        "identity_gender",
        LabelProvenance(
            "assigned-by-people",
            "annotators of per-image gender name lists (sushii2001/DeepFace-gender-bias-detection)",
            "binary and perceived, not self-identified; the majority over an identity's images",
        ),
        [
            "Gender here is binary and perceived: assigned by people from per-image name lists, not self-identified. "
            "It says nothing about non-binary people.",
        ],
    ),
    "race_proxy": (
        "identity_race_proxy",
        LabelProvenance(
            "machine-proxy",
            "the LFW attribute classifiers of Kumar et al. (2009)",
            "scores binarised (most confident two thirds), an image labelled only when exactly one of four classes "
            "was set, then the majority over an identity's images",
        ),
        [
            "The four race-proxy categories (Asian, Black, Indian, White) are coarse and describe no one's identity.",
            "Images of identities with no race proxy (no majority, or no confident classifier output) are left out.",
        ],
    ),
}

LFW_CAVEATS = [
    "LFW shows public figures in news photographs of the 2000s, mostly frontal and well lit, 250x250 "
    "deep-funneled crops (the face nearest the centre is used). It is not a deployment population: most "
    "identities are White men, and images per person range from 1 to 530.",
    "The operating threshold was calibrated on LFW itself, on all 87 million impostor pairs across every group; "
    "within one group people resemble each other more, so within-group FMRs run above the target.",
    "The model may have been trained on images of some of these people, which would lower its error rates on them.",
]


def config(target_fmr: float, clusters: int = FSN_CLUSTERS, fit_fmr: float | None = None) -> AuditConfig:
    return AuditConfig(
        target_fmr=target_fmr,
        pairs=PairConfig(max_within_impostors=2_000_000, max_cross_impostors=200_000),
        bootstrap_replicates=1000,
        fsn_clusters=clusters,
        fsn_fmr=fit_fmr,
        fsn_seeds=FSN_SEEDS,
    )


def image_hashes(rows: list[dict[str, str]]) -> list[str]:
    return [hashlib.sha256((LFW / r["path"]).read_bytes()).hexdigest() for r in rows]


class Model:
    """One registry model's LFW embeddings, operating point and fitted normalisers (shared by the groupings)."""

    def __init__(self, model_id: str, hashes: list[str] | None, fmr: float = TARGET_FMR) -> None:
        registry = ModelRegistry(CACHE / "models", RuntimeOptions())
        self.spec = registry.spec(model_id)
        self.fmr = fmr
        self.threshold = threshold_for(self.spec.thresholds, fmr, model_id)
        self.rows, self.vectors, self.found = lfw_embeddings(model_id)
        self.hashes = hashes or image_hashes(self.rows)
        self.fitted: dict[tuple[int, float, int], Any] = {}


def audit(model: Model, grouping: str) -> AuditReport:
    column, labels, caveats = GROUPINGS[grouping]
    manifest = read_manifest(LFW / "manifest.csv", LFW, column)
    used = manifest.labelled()
    provenance = Provenance(
        route="images",
        producer=f"benchmarks/fairness_lfw.py (regard {__version__}), not signed",
        face_choice=FACE,
        detector="yunet",
        evaluation_set_sha256=evaluation_set_digest(manifest, used, [model.hashes[i] for i in used]),
        manifest_sha256=manifest.sha256,
    )
    dataset = DatasetInfo(
        name="LFW",
        labels=labels,
        description="Labeled Faces in the Wild, deep-funneled: 13,233 images of 5,749 people",
        group_column=column,
    )
    return audit_embeddings(
        model.vectors,
        [r["identity"] for r in model.rows],
        [r[column] for r in model.rows],
        system=model.spec.id,
        threshold=model.threshold,
        threshold_source=f"registry threshold of {model.spec.id} at FMR {model.fmr:.0e} ({model.spec.calibration})",
        dataset=dataset,
        found=model.found,
        system_version=model.spec.version,
        config=config(model.fmr),
        caveats=caveats + LFW_CAVEATS,
        provenance=provenance,
        fsn_fitted=model.fitted,
    )


def sensitivity(model: Model, grouping: str, report: AuditReport) -> list[dict[str, Any]]:
    """FSN at each (clusters, fit FMR), each over the same seeds; normalisers are shared across groupings."""
    column = GROUPINGS[grouping][0]
    identities, groups = [r["identity"] for r in model.rows], [r[column] for r in model.rows]
    pairs, scored = scored_pairs(model.vectors, identities, groups, model.found, config(model.fmr))
    out = []
    for k, fmr in SENSITIVITY:
        mit = fsn_mitigation(
            model.vectors,
            identities,
            model.found,
            scored,
            pairs.a,
            pairs.b,
            model.threshold,
            report.groups,
            config(model.fmr, k, fmr),
            model.fitted,
        )
        runs = mit.runs
        out.append(
            {
                "clusters": k,
                "fit_fmr": fmr,
                "seeds": [r.seed for r in runs],
                "fallback_clusters": [r.fallback_clusters for r in runs],
                "fmr_max_min_after": [r.differentials_after.fmr_max_min for r in runs],
                "fnmr_max_min_after": [r.differentials_after.fnmr_max_min for r in runs],
                "pooled_fnmr_after": [r.pooled_fnmr_after for r in runs],
                "recommended": mit.recommended,
                "verdict": mit.verdict,
            }
        )
    return out


def summary(report: AuditReport) -> dict[str, Any]:
    d, mit = report.differentials_adequate, report.mitigation
    return {
        "threshold": report.threshold,
        "pooled_fmr": report.pooled_fmr,
        "pooled_fnmr": report.pooled_fnmr,
        "groups": {
            g.group: {
                "identities": g.identities,
                "images": g.images,
                "genuine_pairs": g.genuine_pairs,
                "impostor_pairs": g.impostor_pairs,
                "fmr": g.fmr,
                "fmr_ci": g.fmr_ci,
                "fnmr": g.fnmr,
                "fnmr_ci": g.fnmr_ci,
                "threshold_at_target_fmr": g.threshold_at_target_fmr,
                "flagged": g.flagged,
            }
            for g in report.groups
        },
        "differentials_adequate_groups": vars(d),
        "provenance": vars(report.provenance),
        "labels": vars(report.dataset.labels),
        "fsn": None
        if mit is None
        else {
            "clusters": mit.clusters,
            "fit_fmr": mit.fit_fmr,
            "before": vars(mit.differentials_before),
            "pooled_fnmr_before": mit.pooled_fnmr_before,
            "runs": [
                {
                    "seed": r.seed,
                    "threshold_after": r.threshold_after,
                    "after": vars(r.differentials_after),
                    "pooled_fnmr_after": r.pooled_fnmr_after,
                }
                for r in mit.runs
            ],
            "recommended": mit.recommended,
            "verdict": mit.verdict,
        },
    }


def readme_section(model: str, grouping: str, report: AuditReport, sens: list[dict[str, Any]]) -> list[str]:
    d, mit = report.differentials_adequate, report.mitigation
    stem = f"{model}_{grouping}"
    out = [
        f"### {model} by {grouping.replace('_', ' ')}",
        "",
        f"Card: [{stem}.html]({stem}.html) · [{stem}.md]({stem}.md) · [{stem}.json]({stem}.json). "
        f"Threshold {report.threshold:.4f}; pooled within-group FMR {fmt_rate(report.pooled_fmr)}, "
        f"FNMR {fmt_rate(report.pooled_fnmr)}. Labels: {report.dataset.labels.describe()}. Evaluation set sha256 "
        f"`{(report.provenance.evaluation_set_sha256 or '')[:16]}…`.",
        "",
        "| group | identities | images | genuine pairs | impostor pairs | FMR [95% CI] | FNMR [95% CI] | "
        f"threshold for FMR {report.target_fmr:.0e} |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for g in report.groups:
        out.append(
            f"| {g.group}{' (flagged)' if g.flagged else ''} | {g.identities:,} | {g.images:,} | {g.genuine_pairs:,} | "
            f"{g.impostor_pairs:,} | {fmt_rate(g.fmr)} {fmt_ci(g.fmr_ci)} | {fmt_rate(g.fnmr)} {fmt_ci(g.fnmr_ci)} | "
            f"{fmt_num(g.threshold_at_target_fmr, 4)} |"
        )
    out += [
        "",
        f"Over the groups with enough samples ({', '.join(d.groups)}): FMR max/min **{fmt_num(d.fmr_max_min, 2)}**, "
        f"max/geomean {fmt_num(d.fmr_max_geomean, 2)}; FNMR max/min **{fmt_num(d.fnmr_max_min, 2)}**, max/geomean "
        f"{fmt_num(d.fnmr_max_geomean, 2)}; FDR {fmt_num(d.fdr, 4)}; GARBE {fmt_num(d.garbe, 3)}.",
    ]
    if mit is not None:
        out += ["", *fsn_lines(model, grouping, mit, sens)]
    return [*out, ""]


def overview_row(model: str, grouping: str, report: AuditReport) -> str:
    """One line of the comparison across models: accuracy (pooled rates) beside the differentials."""
    d, mit = report.differentials_adequate, report.mitigation
    fsn = "—" if mit is None else ("may be considered" if mit.recommended else "not recommended")
    return (
        f"| {model} | {grouping.replace('_', ' ')} | {report.threshold:.4f} (FMR {report.target_fmr:.0e}) |"
        f" {fmt_rate(report.pooled_fmr)} | "
        f"{fmt_rate(report.pooled_fnmr)} | {fmt_num(d.fmr_max_min, 2)} | {fmt_num(d.fnmr_max_min, 2)} | {fsn} |"
    )


def fsn_lines(model: str, grouping: str, mit: Any, sens: list[dict[str, Any]]) -> list[str]:
    runs = mit.runs
    verdict = "may be considered" if mit.recommended else "NOT recommended"
    out = [
        f"**Fair score normalisation for {model} by {grouping.replace('_', ' ')}: {verdict}.** {mit.verdict}",
        "",
        mitigation_summary(mit),
    ]
    if not sens:
        return out
    out += [
        "",
        f"Sensitivity of FSN to its settings, each over the same {len(runs)} seeds: median (range) after FSN.",
        "",
        "| k | fit FMR | clusters too small | FMR max/min | FNMR max/min | pooled FNMR | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    out += [
        f"| {s['clusters']} | {s['fit_fmr']:g} | {spread(s['fallback_clusters'], 0)} | "
        f"{spread(s['fmr_max_min_after'])} | {spread(s['fnmr_max_min_after'])} | {spread(s['pooled_fnmr_after'], 4)} | "
        f"{'may be considered' if s['recommended'] else 'widens a differential'} |"
        for s in sens
    ]
    widening = sum(not s["recommended"] for s in sens)
    out += ["", f"{widening} of {len(sens)} settings widen at least one differential on at least one seed."]
    return out


README_HEAD = """# Fairness card

Regard measures how its recognition errors differ between demographic groups, for the model and threshold it
runs, and publishes the result here. Regenerate with `python benchmarks/fairness_lfw.py` (needs
`../shared/data/lfw`). Run the same audit on your own labelled data with `regard audit run` or, for any system,
from a score file with `regard audit scores` (see [../fairness.md](../fairness.md)).

## Method

- Data: LFW deep-funneled, 13,233 images of 5,749 people; group labels per identity from the manifest. Regard
  never infers demographic attributes from faces.
- Operating point: each model's registry threshold (calibrated on all LFW impostor pairs) at the FMR its card
  states: 1e-3 for the accuracy profiles `accurate` (the default) and `fast`, their default operating point; 1e-4
  for the member models `sface` and `dlib-resnet` (sface: 0.4244).
- Pairs: every genuine pair; impostor pairs within each group (as NIST FRVT Part 3), up to 2,000,000 per group
  sampled with seed 0 (all of them for smaller groups); pairs across groups reported apart in each card.
- Labels: gender assigned by people (binary, perceived); race groups are MACHINE-DERIVED PROXIES (classifier
  outputs). Each card states its label provenance and carries the caveats that follow from it.
- Faces: one per image, the one nearest the image centre (LFW's subject; `regard audit run` defaults to the same,
  `--face center`). Each card records the face choice and the sha256 of its evaluation set (manifest and image
  bytes). The cards are not signed: they document; a deployment activates a model on its own signed audit.
- Intervals: 95% percentile bootstrap over identities (1,000 replicates), so that people with many photos do not
  narrow them falsely; an impostor pair counts in a replicate when both its people are drawn (once per pair of
  draws). With no error in a group the interval is the exact Clopper-Pearson one, [0, 3.69 / pairs].
- Groups are flagged when too small: fewer than 10 identities, 10 identities with genuine pairs, 100 genuine
  pairs, or 3 / 1e-4 = 30,000 impostor pairs. Their rates are shown; differentials below leave them out.
- Differentials: max/min and max/geometric-mean ratios (NIST FRVT Part 8; a rate of 0 is floored at 1/pairs),
  Fairness Discrepancy Rate (1 is fair), GARBE (Gini-based, 0 is fair), each with α = 0.5.
- Mitigation: fair score normalisation (Terhörst et al. 2020) with k-means clusters of the embeddings (no
  demographic label), compared at the same pooled FMR, fitted and measured on the same images (optimistic),
  with 5 seeds. It is never recommended where any seed widens a FMR or FNMR ratio (max/min, max/geometric mean).

## Results

Every model at its registry threshold for the FMR in the threshold column: the pooled rates say how accurate it
is on LFW, the ratios (over the groups with enough samples) how unequally its errors fall.  Compare models at the
same FMR: the profiles at 1e-3 (their default), the member models at 1e-4.  Add a model or an accuracy profile
with `--model ID [--fmr F]`.
"""

README_TAIL = """## Reading these numbers

- FMR is the chance that two different people of a group are taken for one; FNMR the chance that one person is
  not recognised. A FMR max/min of 15 means one group's people are wrongly matched 15 times as often.
- The minority groups are small: read the intervals, not only the point estimates. A flagged group's rates are
  close to noise.
- In the male and White groups one identity (George W. Bush, 530 images) supplies about 60% of the genuine
  pairs; the FNMR of those groups mostly reflects him, and its interval (which resamples people) is wide for
  that reason.
- The Indian race-proxy group is flagged: 27,778 impostor pairs in all, fewer than the 30,000 needed to expect
  three false matches at FMR 1e-4.
- FSN on LFW is unstable: with the seed, the number of clusters and the FMR it is fitted at, it narrows or widens
  the differentials (see the ranges under each table), and its effect on the overall FNMR differs by model.
  13,233 images are too few to estimate per-cluster thresholds at FMR 1e-4 reliably, and these figures are
  in-sample. It is not switched on in Regard; the cards show what it would do, and say per grouping whether it
  may be considered at all.

## Caveats

- The race groups are MACHINE-DERIVED PROXIES, not human labels: outputs of attribute classifiers (Kumar et al.
  2009), binarised, then the majority per identity. Gender is binary and perceived, assigned by people.
- LFW is not a deployment population: public figures in press photos of the 2000s, mostly frontal and well lit,
  mostly White men. These numbers say how the model behaves on LFW, not on your users; audit on data like yours.
- The threshold was calibrated on LFW itself, across all groups: within-group FMRs exceed the target because people
  in one group resemble each other more than random pairs do.
- The models may have been trained on images of some of these people.
"""


def write_readme() -> None:
    """docs/fairness/README.md from every card present (the default models first), so that auditing one more
    model (``--model ID``) adds its sections without re-running the others."""
    stems = sorted(p.stem for p in DOCS.glob("*.json"))
    found = sorted({stem.removesuffix(f"_{g}") for stem in stems for g in GROUPINGS if stem.endswith(f"_{g}")})
    known = PROFILES + DEFAULT_MODELS
    models = [m for m in known if m in found] + [m for m in found if m not in known]
    overview = [
        "| model | grouping | threshold | pooled FMR | pooled FNMR | FMR max/min | FNMR max/min | FSN |",
        "|---|---|---|---|---|---|---|---|",
    ]
    sections: list[str] = []
    for model_id in models:
        results_file = RESULTS / f"fairness_lfw_{model_id}.json"
        results = json.loads(results_file.read_text()) if results_file.exists() else {}
        for grouping in GROUPINGS:
            card = DOCS / f"{model_id}_{grouping}.json"
            if not card.exists():
                continue
            report = load_report(card)
            sens = results.get(grouping, {}).get("fsn_sensitivity", [])
            overview.append(overview_row(model_id, grouping, report))
            sections += readme_section(model_id, grouping, report, sens)
    readme = [README_HEAD, *overview, "", *sections]
    (DOCS / "README.md").write_text("\n".join(readme) + "\n" + README_TAIL, encoding="utf-8")
    print(f"wrote {Path(DOCS / 'README.md').relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", action="append", help="Registry model id (repeatable; default sface, dlib-resnet).")
    parser.add_argument("--no-sensitivity", action="store_true", help="Skip the FSN settings sweep.")
    parser.add_argument("--fmr", type=float, default=TARGET_FMR, help="Operating point (the model's threshold at it).")
    args = parser.parse_args()
    hashes = None
    for model_id in args.model or DEFAULT_MODELS:
        model = Model(model_id, hashes, args.fmr)
        hashes = model.hashes  # the same images for every model
        results: dict[str, Any] = {"model": model_id, "target_fmr": args.fmr, "face": FACE, "fsn_seeds": FSN_SEEDS}
        for grouping in GROUPINGS:
            start = time.perf_counter()
            report = audit(model, grouping)
            report.write(DOCS, f"{model_id}_{grouping}")
            sens = [] if args.no_sensitivity else sensitivity(model, grouping, report)
            results[grouping] = {**summary(report), "fsn_sensitivity": sens}
            print(f"{model_id} by {grouping}: {time.perf_counter() - start:.1f} s", flush=True)
        write_result(f"fairness_lfw_{model_id}", results)
    write_readme()


if __name__ == "__main__":
    main()
