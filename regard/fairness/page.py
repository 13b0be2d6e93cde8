"""The audit report as one self-contained HTML page: inline CSS and SVG, no script, no external asset."""

from __future__ import annotations

from html import escape

from regard.fairness.markdown import (
    MITIGATION_HEADER,
    REFERENCES,
    differential_rows,
    fmt_ci,
    fmt_count,
    fmt_num,
    fmt_rate,
    interval_method,
    method_lines,
    mitigation_rows,
    mitigation_summary,
    provenance_lines,
)
from regard.fairness.report import AuditReport, Mitigation
from regard.fairness.svg import RatePoint, det_chart, histogram_chart, rate_chart

CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1b1b;background:#fafafa;margin:0}
main{max-width:1000px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin:0 0 8px}h2{font-size:1.2em;margin-top:32px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}th{background:#f0f0f0}
td:first-child,th:first-child{text-align:left}
.summary{background:#fff;border-left:4px solid #0072B2;padding:8px 12px}
.flag{color:#a33}.charts{display:flex;flex-wrap:wrap;gap:8px}
svg{background:#fff;font-size:12px}svg .grid{stroke:#e4e4e4}svg .plot{fill:none;stroke:#888}
svg .tick{fill:#555;font-size:11px}svg .target{stroke:#a33;stroke-dasharray:4 3}
li{margin:2px 0}
"""


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>" if items else "<p>None.</p>"


def render_html(report: AuditReport) -> str:
    r, ds = report, report.dataset
    title = f"Fairness audit: {r.system} {r.system_version} on {ds.name}".replace("  ", " ")
    parts = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="summary">Operating threshold <b>{r.threshold:.4f}</b> ({escape(r.threshold_source)}); target '
        f"FMR {r.target_fmr:g}. Pooled over groups: FMR {fmt_rate(r.pooled_fmr)}, FNMR {fmt_rate(r.pooled_fnmr)}. "
        f"{len(r.flags)} group(s) flagged as too small.</p>",
        f'<p class="{"summary" if r.signature else "flag"}">'
        + escape(
            "Signed: check the signature with `regard audit verify` before relying on it."
            if r.signature
            else "Unsigned: this report is unverified and cannot activate a model."
        )
        + "</p>",
        "<h2>Provenance</h2>",
        _list(provenance_lines(r)),
        "<h2>Dataset and sample sizes</h2>",
        f"<p>{escape(ds.description or ds.name)}. Groups: <code>{escape(ds.group_column or 'group')}</code>, "
        f"{escape(ds.labels.describe())}. Images: {fmt_count(ds.images)}; identities: {fmt_count(ds.identities)}; "
        f"left out without a group label: {ds.excluded_unlabelled:,}; no face found: {ds.images_without_face:,}.</p>",
        _table(
            ["group", "identities", "with genuine pairs", "images", "no face", "genuine pairs", "impostor pairs"],
            [
                [
                    s.group,
                    fmt_count(s.identities),
                    fmt_count(s.genuine_identities),
                    fmt_count(s.images),
                    f"{s.images_without_face:,}",
                    f"{s.genuine_pairs:,}",
                    f"{s.impostor_pairs:,}",
                ]
                for s in r.groups
            ],
        ),
        "<h2>Error rates per group at the operating threshold</h2>",
        f"<p>Dots are estimates, bars {r.ci_level:.0%} intervals ({escape(interval_method(r))}). Hollow dots and "
        "<code>*</code>: too few samples for a reliable estimate. The dashed line is the target FMR.</p>",
        '<div class="charts">',
        rate_chart(
            [RatePoint(s.group, s.fmr, s.fmr_ci, s.flagged) for s in r.groups],
            "FMR (log scale)",
            log=True,
            reference=r.target_fmr,
        ),
        rate_chart([RatePoint(s.group, s.fnmr, s.fnmr_ci, s.flagged) for s in r.groups], "FNMR", log=False),
        "</div>",
        _table(
            ["group", "FMR", "FMR CI", "false matches", "FNMR", "FNMR CI", "false non-matches"],
            [
                [
                    s.group + (" *" if s.flagged else ""),
                    fmt_rate(s.fmr),
                    fmt_ci(s.fmr_ci),
                    f"{s.false_matches:,}",
                    fmt_rate(s.fnmr),
                    fmt_ci(s.fnmr_ci),
                    f"{s.false_non_matches:,}",
                ]
                for s in r.groups
            ],
        ),
        "<h2>DET curves</h2>",
        det_chart(r.det, r.target_fmr),
        f"<h2>Threshold each group would need for FMR {r.target_fmr:g}</h2>",
        _table(
            ["group", "threshold", "FNMR at that threshold"],
            [[s.group, fmt_num(s.threshold_at_target_fmr, 4), fmt_rate(s.fnmr_at_own_threshold)] for s in r.groups],
        ),
        "<h2>Differentials</h2>",
        _table(
            ["measure", "all groups", "groups with enough samples"],
            [
                [a[0], a[1], b[1]]
                for a, b in zip(
                    differential_rows(r.differentials), differential_rows(r.differentials_adequate), strict=True
                )
            ],
        ),
        _list(r.differentials.notes + r.differentials_adequate.notes),
    ]
    if r.cross_groups:
        parts += [
            "<h2>Impostor pairs across groups</h2>",
            _table(
                ["groups", "impostor pairs", "FMR", "FMR CI"],
                [
                    [f"{c.group_a} × {c.group_b}", f"{c.impostor_pairs:,}", fmt_rate(c.fmr), fmt_ci(c.fmr_ci)]
                    for c in r.cross_groups
                ],
            ),
        ]
    parts += [
        "<h2>Score distributions</h2>",
        "<p>Filled: genuine pairs; outlined: impostor pairs (each scaled to its own peak); dashed: threshold.</p>",
        '<div class="charts">' + "".join(histogram_chart(h, r.threshold, i) for i, h in enumerate(r.histograms)),
        "</div>",
    ]
    if r.mitigation is not None:
        parts += _mitigation(r.mitigation)
    parts += [
        "<h2>Flags</h2>",
        f'<div class="flag">{_list(r.flags)}</div>',
        "<h2>Caveats</h2>",
        _list(r.caveats),
        "<h2>Method</h2>",
        _list([line.removeprefix("- ") for line in method_lines(r)]),
        "<h2>References</h2>",
        _list(REFERENCES),
    ]
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>\n<body><main>\n"
        + "\n".join(parts)
        + "\n</main></body></html>\n"
    )


def _mitigation(mit: Mitigation) -> list[str]:
    verdict = "May be considered" if mit.recommended else "Not recommended"
    return [
        f"<h2>Mitigation: {escape(mit.method)}</h2>",
        f'<p class="{"summary" if mit.recommended else "flag"}"><b>{verdict}.</b> {escape(mit.verdict)}</p>',
        f"<p>{escape(mitigation_summary(mit))}</p>",
        _table(MITIGATION_HEADER, mitigation_rows(mit)),
        _table(
            ["group", "FMR before", "FNMR before"],
            [[b.group, fmt_rate(b.fmr), fmt_rate(b.fnmr)] for b in mit.before],
        ),
        _list(mit.notes),
    ]
