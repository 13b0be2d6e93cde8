"""The audit report as Markdown, and the number formats shared with the HTML page."""

from __future__ import annotations

import statistics

from regard.fairness.metrics import Differentials
from regard.fairness.report import AuditReport, Mitigation

REFERENCES = [
    "P. Grother, M. Ngan, K. Hanaoka. FRVT Part 3: Demographic Effects. NISTIR 8280, 2019.",
    "P. Grother. FRVT Part 8: Summarizing Demographic Differentials. NISTIR 8429, 2022.",
    "T. de Freitas Pereira, S. Marcel. Fairness in Biometrics: a figure of merit to assess biometric "
    "verification systems. IEEE T-BIOM, 2022 (FDR).",
    "J. J. Howard et al. Evaluating Proposed Fairness Models for Face Recognition Algorithms, 2022 (GARBE).",
    "P. Terhörst et al. Post-comparison mitigation of demographic bias in face recognition using fair score "
    "normalization. Pattern Recognition Letters, 2020 (FSN).",
]


def fmt_rate(value: float | None) -> str:
    """Rates: scientific below 1e-3 (where FMRs live), fixed above."""
    if value is None:
        return "—"
    if value == 0:
        return "0"
    return f"{value:.2e}" if value < 1e-3 else f"{value:.4f}"


def fmt_ci(interval: tuple[float, float] | None) -> str:
    return "—" if interval is None else f"[{fmt_rate(interval[0])}, {fmt_rate(interval[1])}]"


def fmt_num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def fmt_count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def differential_rows(d: Differentials) -> list[tuple[str, str]]:
    """(measure, value) pairs for one set of differentials."""
    return [
        ("FMR max/min", fmt_num(d.fmr_max_min, 2)),
        ("FMR max/geometric mean", fmt_num(d.fmr_max_geomean, 2)),
        ("FNMR max/min", fmt_num(d.fnmr_max_min, 2)),
        ("FNMR max/geometric mean", fmt_num(d.fnmr_max_geomean, 2)),
        ("Gini of FMR", fmt_num(d.fmr_gini)),
        ("Gini of FNMR", fmt_num(d.fnmr_gini)),
        (f"FDR (α={d.alpha:g}; 1 is fair)", fmt_num(d.fdr, 6)),
        (f"GARBE (α={d.alpha:g}; 0 is fair)", fmt_num(d.garbe)),
    ]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]


def render_markdown(report: AuditReport) -> str:
    r, ds = report, report.dataset
    out = [
        f"# Fairness audit: {r.system} {r.system_version} on {ds.name}".rstrip(),
        "",
        f"Operating threshold **{r.threshold:.4f}** ({r.threshold_source}); target FMR {r.target_fmr:g}. "
        f"Pooled over groups: FMR {fmt_rate(r.pooled_fmr)}, FNMR {fmt_rate(r.pooled_fnmr)}.",
        "",
        "## Provenance",
        "",
        *[f"- {line}" for line in provenance_lines(r)],
        "",
        "## Dataset",
        "",
        f"- {ds.description or ds.name}",
        f"- Groups: `{ds.group_column or 'group'}`, {ds.labels.describe()}.",
        f"- Images: {fmt_count(ds.images)}; identities: {fmt_count(ds.identities)}; left out without a group "
        f"label: {ds.excluded_unlabelled:,}; images where no face was found: {ds.images_without_face:,}.",
        "",
        "## Error rates per group at the operating threshold",
        "",
        f"Intervals: {r.ci_level:.0%}, {interval_method(r)}. `*` marks a group too small for a reliable estimate.",
        "",
    ]
    out += _table(
        ["group", "identities", "images", "genuine pairs", "impostor pairs", "FMR", "FMR CI", "FNMR", "FNMR CI"],
        [
            [
                s.group + (" *" if s.flagged else ""),
                fmt_count(s.identities),
                fmt_count(s.images),
                fmt_count(s.genuine_pairs),
                fmt_count(s.impostor_pairs),
                fmt_rate(s.fmr),
                fmt_ci(s.fmr_ci),
                fmt_rate(s.fnmr),
                fmt_ci(s.fnmr_ci),
            ]
            for s in r.groups
        ],
    )
    out += ["", f"## Threshold each group would need for FMR {r.target_fmr:g}", ""]
    out += _table(
        ["group", "threshold", "FNMR at that threshold", "false matches at operating threshold"],
        [
            [s.group, fmt_num(s.threshold_at_target_fmr, 4), fmt_rate(s.fnmr_at_own_threshold), f"{s.false_matches:,}"]
            for s in r.groups
        ],
    )
    out += ["", "## Differentials", ""]
    rows = zip(differential_rows(r.differentials), differential_rows(r.differentials_adequate), strict=True)
    out += _table(
        ["measure", "all groups", "groups with enough samples"],
        [[a[0], a[1], b[1]] for a, b in rows],
    )
    out += [""] + [f"- {n}" for n in r.differentials.notes + r.differentials_adequate.notes]
    if r.cross_groups:
        out += ["", "## Impostor pairs across groups", ""]
        out += _table(
            ["groups", "impostor pairs", "FMR", "FMR CI"],
            [
                [f"{c.group_a} × {c.group_b}", fmt_count(c.impostor_pairs), fmt_rate(c.fmr), fmt_ci(c.fmr_ci)]
                for c in r.cross_groups
            ],
        )
    if r.mitigation is not None:
        out += ["", *mitigation_markdown(r.mitigation)]
    out += ["", "## Flags", ""] + ([f"- {f}" for f in r.flags] or ["- none"])
    out += ["", "## Caveats", ""] + [f"- {c}" for c in r.caveats]
    out += ["", "## Method", "", *method_lines(r), "", "## References", ""] + [f"- {ref}" for ref in REFERENCES]
    return "\n".join(out).replace("\n\n\n", "\n\n") + "\n"


def method_lines(r: AuditReport) -> list[str]:
    a = r.adequacy
    return [
        "- Genuine pairs: every pair of two images of one person. Impostor pairs: two different people of the "
        "same group (sampled when there are many); pairs across groups are reported apart.",
        f"- A pair matches when its cosine similarity is >= {r.threshold:.4f}. FMR: matching impostor pairs / "
        "impostor pairs; FNMR: non-matching genuine pairs / genuine pairs.",
        "- Ratios use a floor of 1/pairs for a rate of 0. FDR = 1 - (α·max|ΔFMR| + (1-α)·max|ΔFNMR|). "
        "GARBE = α·Gini(FMR) + (1-α)·Gini(FNMR), Gini = n/(n-1) · ΣΣ|xᵢ-xⱼ| / (2n²·mean).",
        f"- A group is flagged when it has fewer than {a.min_identities} identities, fewer than "
        f"{a.min_genuine_identities} identities with genuine pairs, fewer than {a.min_genuine_pairs} genuine "
        f"pairs, or fewer than {a.impostor_factor:g}/target FMR = {a.impostor_factor / r.target_fmr:,.0f} "
        "impostor pairs.",
        f"- Seed {r.seed}; report created {r.created}.",
    ]


def interval_method(r: AuditReport) -> str:
    if r.provenance.route == "score-file" and "resample pairs" in " ".join(r.caveats):
        return f"bootstrap over pairs ({r.bootstrap_replicates} replicates; no identities in the scores)"
    return (
        f"bootstrap over identities ({r.bootstrap_replicates} replicates; an impostor pair counts when both its "
        "people are drawn); exact Clopper-Pearson when no error is observed"
    )


FACES = {"center": "the face nearest the image centre", "largest": "the largest face"}


def provenance_lines(r: AuditReport) -> list[str]:
    """How the report was made and whether it is signed (the signature is checked by ``regard audit verify``)."""
    p, sig = r.provenance, r.signature
    route = {
        "images": "Regard detected and embedded the images itself",
        "score-file": "scores supplied by the caller, which Regard cannot vouch for",
        "embeddings": "embeddings supplied by the caller, which Regard cannot vouch for",
    }.get(p.route, p.route)
    out = [f"Route: {p.route}: {route}. Produced by {p.producer}."]
    if p.face_choice:
        face = FACES.get(p.face_choice, f"the {p.face_choice} face")
        out.append(f"Face used per image: {face} (`{p.face_choice}`; detector {p.detector or 'unknown'}).")
    if p.evaluation_set_sha256:
        out.append(f"Evaluation set sha256 (manifest rows and image bytes): `{p.evaluation_set_sha256}`.")
    if p.inputs_sha256:
        out.append(f"Score file sha256: `{p.inputs_sha256}`.")
    if sig is None:
        out.append("Signature: none. An unsigned report is unverified and cannot activate a model.")
    else:
        out.append(
            f"Signature: {sig.algorithm} by key `{sig.key_id}` ({sig.signed_by}), {sig.signed_at}. It proves the "
            "report unchanged only for a key you trust: check it with `regard audit verify`."
        )
    return out


def spread(values: list[float | None], digits: int = 2) -> str:
    """``median (min–max)`` of the measurable values, or — when none is."""
    known = [v for v in values if v is not None]
    if not known:
        return "—"
    median = statistics.median(known)
    return f"{median:.{digits}f} ({min(known):.{digits}f}–{max(known):.{digits}f})"


def mitigation_rows(mit: Mitigation) -> list[list[str]]:
    """One row per seed: fallback clusters, threshold, pooled FNMR and the watched differentials after."""
    return [
        [
            str(run.seed),
            str(run.fallback_clusters),
            f"{run.threshold_after:.4f}",
            fmt_rate(run.pooled_fnmr_after),
            fmt_num(run.differentials_after.fmr_max_min, 2),
            fmt_num(run.differentials_after.fnmr_max_min, 2),
            fmt_num(run.differentials_after.garbe),
        ]
        for run in mit.runs
    ]


MITIGATION_HEADER = [
    "seed",
    "clusters too small",
    "threshold after",
    "pooled FNMR",
    "FMR max/min",
    "FNMR max/min",
    "GARBE",
]


def mitigation_summary(mit: Mitigation) -> str:
    b = mit.differentials_before
    runs = mit.runs
    return (
        f"{mit.clusters} clusters fitted at FMR {mit.fit_fmr:g} with {len(runs)} seeds; each compared at the "
        f"threshold giving the pooled FMR that {mit.threshold_before:.4f} gives ({fmt_rate(mit.pooled_fmr_before)}). "
        f"Before: FMR max/min {fmt_num(b.fmr_max_min, 2)}, FNMR max/min {fmt_num(b.fnmr_max_min, 2)}, pooled FNMR "
        f"{fmt_rate(mit.pooled_fnmr_before)}. After, median (range) over seeds: FMR max/min "
        f"{spread([r.differentials_after.fmr_max_min for r in runs])}, FNMR max/min "
        f"{spread([r.differentials_after.fnmr_max_min for r in runs])}, pooled FNMR "
        f"{spread([r.pooled_fnmr_after for r in runs], 4)}."
    )


def mitigation_markdown(mit: Mitigation) -> list[str]:
    out = [
        f"## Mitigation: {mit.method}",
        "",
        f"**{'May be considered' if mit.recommended else 'Not recommended'}.** {mit.verdict}",
        "",
        mitigation_summary(mit),
        "",
    ]
    out += _table(MITIGATION_HEADER, mitigation_rows(mit))
    return out + [""] + [f"- {n}" for n in mit.notes]
