"""The fairness card: a demographic audit of the shipped models on LFW, by gender and by a race proxy.

Uses the cached LFW embeddings of benchmarks/embed_lfw.py and the group columns of ../shared/data/lfw/manifest.csv
(identity_gender: assigned by people; identity_race_proxy: MACHINE-DERIVED, see the caveats).  The operating
threshold is each model's registry threshold at FMR 1e-4.  Writes docs/fairness/<model>_<grouping>.{json,md,html},
docs/fairness/README.md and benchmarks/results/fairness_lfw_<model>.json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from _common import CACHE, ROOT, write_result
from embed_lfw import lfw_embeddings

from regard.fairness import AuditConfig, AuditReport, DatasetInfo, PairConfig, audit_embeddings
from regard.fairness.markdown import fmt_ci, fmt_num, fmt_rate
from regard.fairness.runner import model_version

DOCS = ROOT / "docs" / "fairness"
TARGET_FMR = 1e-4
FSN_CLUSTERS = 25  # about 530 images a cluster: ~140k within-cluster impostor pairs, ~14 false matches at 1e-4
SENSITIVITY = [(k, f) for k in (10, 25, 50, 100) for f in (1e-3, 1e-4)]

GROUPINGS = {
    "gender": (
        "identity_gender",
        "people: per-image gender lists (binary, perceived, not self-identified), the majority per identity",
        [
            "Gender here is binary and perceived: assigned by people from per-image name lists, not self-identified. "
            "It says nothing about non-binary people.",
        ],
    ),
    "race_proxy": (
        "identity_race_proxy",
        "MACHINE-DERIVED PROXIES, not human labels (LFW attribute classifiers of Kumar et al. 2009, binarised; the "
        "majority per identity)",
        [
            "The race groups are MACHINE-DERIVED PROXIES, not human labels and not self-identification: outputs of "
            "the trained attribute classifiers of Kumar et al. (2009), binarised (most confident two thirds), an "
            "image labelled only when exactly one class was set, then the majority over an identity's images. "
            "Errors in these proxies mix people between groups and blur the differences measured here. The four "
            "categories are coarse and do not describe anyone's identity. Such proxies are used here only to "
            "measure; Regard never infers them.",
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


def audit(model: str, grouping: str, rows: list[dict[str, str]], vectors: Any, found: Any, **fsn: Any) -> AuditReport:
    column, source, caveats = GROUPINGS[grouping]
    config = AuditConfig(
        target_fmr=TARGET_FMR,
        pairs=PairConfig(max_within_impostors=2_000_000, max_cross_impostors=200_000),
        bootstrap_replicates=1000,
        fsn_clusters=fsn.get("clusters", FSN_CLUSTERS),
        fsn_fmr=fsn.get("fmr"),
    )
    dataset = DatasetInfo(
        name="LFW",
        description="Labeled Faces in the Wild, deep-funneled: 13,233 images of 5,749 people",
        group_column=column,
        label_source=source,
    )
    return audit_embeddings(
        vectors,
        [r["identity"] for r in rows],
        [r[column] for r in rows],
        system=model,
        system_version=model_version(model),
        found=found,
        dataset=dataset,
        config=config,
        caveats=caveats + LFW_CAVEATS,
    )


def sensitivity(
    model: str, grouping: str, rows: list[dict[str, str]], vectors: Any, found: Any
) -> list[dict[str, Any]]:
    out = []
    for k, fmr in SENSITIVITY:
        mit = audit(model, grouping, rows, vectors, found, clusters=k, fmr=fmr).mitigation
        assert mit is not None
        out.append(
            {
                "clusters": k,
                "fit_fmr": fmr,
                "fallback_clusters": mit.fallback_clusters,
                "fmr_max_min_after": mit.differentials_after.fmr_max_min,
                "fnmr_max_min_after": mit.differentials_after.fnmr_max_min,
                "pooled_fnmr_after": mit.pooled_fnmr_after,
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
        "fsn": None
        if mit is None
        else {
            "clusters": mit.clusters,
            "threshold_after": mit.threshold_after,
            "before": vars(mit.differentials_before),
            "after": vars(mit.differentials_after),
            "pooled_fnmr_after": mit.pooled_fnmr_after,
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
        f"FNMR {fmt_rate(report.pooled_fnmr)}.",
        "",
        "| group | identities | images | genuine pairs | impostor pairs | FMR [95% CI] | FNMR [95% CI] | "
        "threshold for FMR 1e-4 |",
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
        b, a = mit.differentials_before, mit.differentials_after
        out += [
            "",
            f"FSN (k={mit.clusters}, fitted at FMR {mit.fit_fmr:g}, same pooled FMR): FMR max/min "
            f"{fmt_num(b.fmr_max_min, 2)} → {fmt_num(a.fmr_max_min, 2)}, FNMR max/min {fmt_num(b.fnmr_max_min, 2)} → "
            f"{fmt_num(a.fnmr_max_min, 2)}, GARBE {fmt_num(b.garbe, 3)} → {fmt_num(a.garbe, 3)}, pooled FNMR "
            f"{fmt_rate(mit.pooled_fnmr_before)} → {fmt_rate(mit.pooled_fnmr_after)}.",
            "",
            "Sensitivity of FSN to its settings (FMR and FNMR max/min after, pooled FNMR after):",
            "",
            "| k | fit FMR | clusters too small | FMR max/min | FNMR max/min | pooled FNMR |",
            "|---|---|---|---|---|---|",
        ]
        out += [
            f"| {s['clusters']} | {s['fit_fmr']:g} | {s['fallback_clusters']} | {fmt_num(s['fmr_max_min_after'], 2)} | "
            f"{fmt_num(s['fnmr_max_min_after'], 2)} | {fmt_rate(s['pooled_fnmr_after'])} |"
            for s in sens
        ]
        if sens:
            ratios = [s["fmr_max_min_after"] for s in sens if s["fmr_max_min_after"] is not None]
            fnmrs = [s["pooled_fnmr_after"] for s in sens if s["pooled_fnmr_after"] is not None]
            out += [
                "",
                f"Across these {len(sens)} settings FMR max/min after FSN ranges from {min(ratios):.2f} to "
                f"{max(ratios):.2f} (before: {fmt_num(b.fmr_max_min, 2)}) and pooled FNMR from {fmt_rate(min(fnmrs))} "
                f"to {fmt_rate(max(fnmrs))} (before: {fmt_rate(mit.pooled_fnmr_before)}).",
            ]
    return [*out, ""]


README_HEAD = """# Fairness card

Regard measures how its recognition errors differ between demographic groups, for the model and threshold it
runs, and publishes the result here. Regenerate with `python benchmarks/fairness_lfw.py` (needs
`../shared/data/lfw`). Run the same audit on your own labelled data with `regard audit run` or, for any system,
from a score file with `regard audit scores` (see [../fairness.md](../fairness.md)).

## Method

- Data: LFW deep-funneled, 13,233 images of 5,749 people; group labels per identity from the manifest. Regard
  never infers demographic attributes from faces.
- Operating point: each model's registry threshold at FMR 1e-4 (sface: 0.4244, calibrated on all LFW impostor
  pairs).
- Pairs: every genuine pair; impostor pairs within each group (as NIST FRVT Part 3), up to 2,000,000 per group
  sampled with seed 0 (all of them for smaller groups); pairs across groups reported apart in each card.
- Intervals: 95% percentile bootstrap over identities (1,000 replicates), so that people with many photos do not
  narrow them falsely.
- Groups are flagged when too small: fewer than 10 identities, 10 identities with genuine pairs, 100 genuine
  pairs, or 3 / 1e-4 = 30,000 impostor pairs. Their rates are shown; differentials below leave them out.
- Differentials: max/min and max/geometric-mean ratios (NIST FRVT Part 8; a rate of 0 is floored at 1/pairs),
  Fairness Discrepancy Rate (1 is fair), GARBE (Gini-based, 0 is fair), each with α = 0.5.
- Mitigation: fair score normalisation (Terhörst et al. 2020) with k-means clusters of the embeddings (no
  demographic label), compared at the same pooled FMR, fitted and measured on the same images (optimistic).

## Results
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
- FSN on LFW is unstable: depending on the number of clusters and the FMR it is fitted at, it narrows or widens
  the FMR differential (see the ranges under each table), and its effect on the overall FNMR differs by model.
  13,233 images are too few to estimate per-cluster thresholds at FMR 1e-4 reliably, and these figures are
  in-sample. It is not switched on in Regard; the cards show what it would do.

## Caveats

- The race groups are MACHINE-DERIVED PROXIES, not human labels: outputs of attribute classifiers (Kumar et al.
  2009), binarised, then the majority per identity. Gender is binary and perceived, assigned by people.
- LFW is not a deployment population: public figures in press photos of the 2000s, mostly frontal and well lit,
  mostly White men. These numbers say how the model behaves on LFW, not on your users; audit on data like yours.
- The threshold was calibrated on LFW itself, across all groups: within-group FMRs exceed 1e-4 because people
  in one group resemble each other more than random pairs do.
- The models may have been trained on images of some of these people.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-sensitivity", action="store_true", help="Skip the FSN settings sweep.")
    args = parser.parse_args()
    models = ["sface"] + (["dlib-resnet"] if (CACHE / "lfw_dlib-resnet.npz").exists() else [])
    readme = [README_HEAD]
    for model in models:
        rows, vectors, found = lfw_embeddings(model)
        results: dict[str, Any] = {"model": model, "target_fmr": TARGET_FMR}
        for grouping in GROUPINGS:
            start = time.perf_counter()
            report = audit(model, grouping, rows, vectors, found)
            report.write(DOCS, f"{model}_{grouping}")
            sens = [] if args.no_sensitivity else sensitivity(model, grouping, rows, vectors, found)
            results[grouping] = {**summary(report), "fsn_sensitivity": sens}
            readme += readme_section(model, grouping, report, sens)
            print(f"{model} by {grouping}: {time.perf_counter() - start:.1f} s")
        write_result(f"fairness_lfw_{model}", results)
    (DOCS / "README.md").write_text("\n".join(readme) + "\n" + README_TAIL, encoding="utf-8")
    print(f"wrote {Path(DOCS / 'README.md').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
