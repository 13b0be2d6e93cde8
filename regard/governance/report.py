"""The accountability report: what a tenant declared, did, was refused and reviewed, per purpose.

Its sections follow the accountability report Washington's SB 6280 asks of
agencies using facial recognition: purposes and use, data management
(retention, consent, erasure), testing (accuracy and fairness of the model in
use), human review, and the record of use.  Every rendering (Markdown, HTML,
JSON) embeds the ledger's latest signed checkpoint, so anyone holding a
published copy can later prove the history it covers was not rewritten
(``regard ledger verify --against REPORT``).
"""

from __future__ import annotations

import html
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from regard.domain import to_jsonable
from regard.errors import InvalidInputError
from regard.governance.consent import Consent
from regard.governance.ledger import LedgerEntry
from regard.governance.purposes import Purpose
from regard.governance.repository import PolicyVersion
from regard.governance.signing import SignedCheckpoint, canonical
from regard.governance.verification import Verification

CHECKPOINT_MARKER = "regard-ledger-checkpoint:"


@dataclass
class AccountabilityReport:
    tenant: str
    purpose_filter: str | None
    generated_at: datetime
    policy_version: str
    policy_history: list[dict[str, Any]]
    purposes: list[dict[str, Any]]
    calls_by_operation: dict[str, dict[str, int]]  # purpose -> operation -> count
    denials_by_rule: dict[str, int]
    reviews: dict[str, Any]
    consent: dict[str, int]
    retention: dict[str, int]
    erasures: dict[str, int]
    models: list[dict[str, Any]] = field(default_factory=list)
    ledger: dict[str, Any] = field(default_factory=dict)
    checkpoint: SignedCheckpoint | None = None  # the ledger's latest signed checkpoint when the report was made


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report states, gathered by the service through governed calls."""

    tenant: str
    purpose_filter: str | None
    now: datetime
    policy_version: str
    policy_history: list[PolicyVersion]
    purposes: list[Purpose]
    entries: list[LedgerEntry]
    consents: list[Consent]
    erasures: list[dict[str, Any]]
    reviews: dict[str, Any]
    templates_stored: int
    templates_due_30_days: int
    models: list[dict[str, Any]]
    verification: Verification
    checkpoint: SignedCheckpoint | None = None


def build_report(inputs: ReportInputs) -> AccountabilityReport:
    """The report from its inputs; pure, so what it says follows only from what was gathered."""
    now, purpose = inputs.now, inputs.purpose_filter
    entries = [e for e in inputs.entries if purpose is None or e.fields.get("purpose") == purpose]
    calls: dict[str, Counter[str]] = {}
    denials: Counter[str] = Counter()
    for e in entries:
        calls.setdefault(e.fields["purpose"], Counter())[e.fields["operation"]] += 1
        if e.fields["decision"] == "deny":
            denials[e.fields["rule_id"]] += 1
    consents = inputs.consents
    purged = sum(
        int(e.fields.get("result", {}).get("templates", 0)) for e in entries if e.fields["operation"] == "purge"
    )
    verification = inputs.verification
    return AccountabilityReport(
        tenant=inputs.tenant,
        purpose_filter=purpose,
        generated_at=now,
        policy_version=inputs.policy_version,
        policy_history=[
            {
                "version": v.version,
                "sha256": v.sha256,
                "applied_by": v.applied_by,
                "at": v.created_at.isoformat(timespec="seconds"),
            }
            for v in inputs.policy_history
        ],
        purposes=[
            {
                "name": p.name,
                "category": p.category.value,
                "legal_basis": p.legal_basis.value,
                "data_subjects": p.data_subjects,
                "retention_days": p.retention_days,
                "max_collection_subjects": p.max_collection_subjects,
                "consequential": p.consequential,
            }
            for p in inputs.purposes
            if purpose is None or p.name == purpose
        ],
        calls_by_operation={k: dict(v) for k, v in sorted(calls.items())},
        denials_by_rule=dict(denials.most_common()),
        reviews=inputs.reviews,
        consent={
            "records": len(consents),
            "in_force": sum(c.withdrawn_at is None and (c.expires_at is None or c.expires_at > now) for c in consents),
            "withdrawn": sum(c.withdrawn_at is not None for c in consents),
            "expired": sum(
                c.withdrawn_at is None and c.expires_at is not None and c.expires_at <= now for c in consents
            ),
        },
        retention={
            "templates_stored": inputs.templates_stored,
            "due_within_30_days": inputs.templates_due_30_days,
            "purged": purged,
        },
        erasures=dict(Counter(str(e.get("reason", "")) for e in inputs.erasures)),
        models=inputs.models,
        ledger={
            "entries": verification.entries,
            "checkpoints": verification.checkpoints,
            "intact": verification.ok,
            "problems": verification.problems,
        },
        checkpoint=inputs.checkpoint,
    )


def render_markdown(report: AccountabilityReport) -> str:
    lines = [
        f"# Accountability report — tenant `{report.tenant}`",
        "",
        f"Generated {report.generated_at.isoformat(timespec='seconds')} UTC"
        + (f", purpose `{report.purpose_filter}`" if report.purpose_filter else "")
        + ".",
        "",
        f"Policy in force: **{report.policy_version}**.",
        "",
        "## Purposes declared",
        "",
    ]
    lines += _md_table(
        ["name", "category", "legal basis", "data subjects", "retention (days)", "max subjects", "consequential"],
        [
            [
                p["name"],
                p["category"],
                p["legal_basis"],
                p["data_subjects"],
                p["retention_days"],
                p["max_collection_subjects"],
                "yes" if p["consequential"] else "no",
            ]
            for p in report.purposes
        ],
    )
    lines += ["", "## Use", ""]
    ops = sorted({op for v in report.calls_by_operation.values() for op in v})
    lines += _md_table(
        ["purpose", *ops], [[p, *(v.get(op, 0) for op in ops)] for p, v in report.calls_by_operation.items()]
    )
    lines += ["", "## Denials by rule", ""]
    lines += _md_table(["rule", "denials"], [[k, v] for k, v in report.denials_by_rule.items()])
    lines += ["", "## Human review", ""]
    lines += _md_table(["measure", "value"], [[k, v] for k, v in report.reviews.items()])
    lines += ["", "## Consent, retention and erasure", ""]
    lines += _md_table(
        ["measure", "value"],
        [[f"consent {k}", v] for k, v in report.consent.items()]
        + [[k.replace("_", " "), v] for k, v in report.retention.items()]
        + [[f"erasures ({k})", v] for k, v in report.erasures.items()],
    )
    lines += ["", "## Models in use, accuracy and fairness", ""]
    for m in report.models:
        measured = ", ".join(f"{k} {v:.4g}" for k, v in m["measured"].items()) or "not measured"
        lines.append(f"- `{m['model']}` {m['version']} ({m['licence']}): {measured}. Thresholds: {m['calibration']}.")
        lines.append(f"  Fairness: {m['fairness'] or 'no fairness audit on record'}.")
    lines += ["", "## Policy history", ""]
    lines += _md_table(
        ["version", "sha256", "applied by", "at"],
        [[v["version"], v["sha256"][:12], v["applied_by"], v["at"]] for v in report.policy_history],
    )
    lines += [
        "",
        "## Ledger",
        "",
        f"{report.ledger['entries']} entries, {report.ledger['checkpoints']} signed checkpoint(s); "
        + ("chain intact." if report.ledger["intact"] else "PROBLEMS: " + "; ".join(report.ledger["problems"])),
    ]
    lines += _md_checkpoint(report.checkpoint)
    return "\n".join(lines) + "\n"


def _md_checkpoint(cp: SignedCheckpoint | None) -> list[str]:
    if cp is None:
        return ["", "The ledger is empty: no checkpoint to publish."]
    lines = [
        "",
        "Latest signed checkpoint. Whoever keeps a copy of this report can later prove that the ledger's history "
        f"up to entry {cp.seq} was not rewritten: `regard ledger verify --against <this report>`.",
        "",
    ]
    lines += _md_table(
        ["field", "value"],
        [
            ["entry (seq)", cp.seq],
            ["entry hash", cp.entry_hash],
            ["signed at", cp.at],
            ["key id", cp.key_id],
            ["public key", cp.public_key],
            ["signature", cp.signature],
        ],
    )
    # The same, machine-readable: one line that survives the HTML rendering.
    return [*lines, "", f"{CHECKPOINT_MARKER} {canonical(cp.as_json())}"]


def render_json(report: AccountabilityReport) -> str:
    """The report as JSON (the checkpoint under ``checkpoint``)."""
    return json.dumps(to_jsonable(report), indent=2, ensure_ascii=False) + "\n"


def embedded_checkpoint(text: str) -> SignedCheckpoint:
    """The signed checkpoint a report (Markdown, HTML or JSON) embeds; ``InvalidInputError`` when it has none."""
    if not isinstance(text, str):
        raise InvalidInputError("a report is text (Markdown, HTML or JSON)")
    try:
        value = _from_json(text) if text.lstrip().startswith("{") else _from_marker(html.unescape(text))
        return SignedCheckpoint.from_json(value)
    except ValueError as exc:
        raise InvalidInputError(f"the report embeds no readable signed checkpoint ({exc})") from None


def _from_json(text: str) -> Any:
    document = json.loads(text)
    if not isinstance(document, dict) or document.get("checkpoint") is None:
        raise ValueError("no 'checkpoint' in the JSON report")
    return document["checkpoint"]


def _from_marker(text: str) -> Any:
    at = text.rfind(CHECKPOINT_MARKER)
    if at < 0:
        raise ValueError(f"no '{CHECKPOINT_MARKER}' line")
    start = text.find("{", at)
    if start < 0:
        raise ValueError("nothing after the checkpoint marker")
    return json.JSONDecoder().raw_decode(text, start)[0]


def _md_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    if not rows:
        return ["(none)"]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def render_html(report: AccountabilityReport) -> str:
    """The Markdown report as a self-contained HTML page (tables and headings only)."""
    body = []
    in_table = False
    for line in render_markdown(report).splitlines():
        if line.startswith("|"):
            cells = [html.escape(c.strip()) for c in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-"):
                continue
            if not in_table:
                body.append("<table>")
                in_table = True
                body.append("<tr>" + "".join(f"<th>{c}</th>" for c in cells) + "</tr>")
            else:
                body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        if line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.strip():
            body.append(f"<p>{html.escape(line)}</p>")
    if in_table:
        body.append("</table>")
    style = (
        "body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left}"
        "th{background:#f0f0f0}"
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>Accountability report {html.escape(report.tenant)}</title><style>{style}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
