"""The accountability report: what a tenant declared, did, was refused and reviewed, per purpose.

Its sections follow the accountability report Washington's SB 6280 asks of
agencies using facial recognition: purposes and use, data management
(retention, consent, erasure), testing (accuracy and fairness of the model in
use), human review, and the record of use.
"""

from __future__ import annotations

import html
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from regard.context import CallContext
from regard.governance.guard import utcnow
from regard.governance.roles import Operation, require
from regard.store.governance_tables import ReviewActionRow, ReviewCaseRow
from regard.store.tables import CollectionRow, FaceRow

if TYPE_CHECKING:
    from regard.service import Regard


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


def build_report(service: Regard, ctx: CallContext, purpose: str | None = None) -> AccountabilityReport:
    require(ctx, Operation.AUDIT)
    now = utcnow()
    entries = service.ledger_entries(ctx)
    if purpose is not None:
        entries = [e for e in entries if e.fields.get("purpose") == purpose]
    calls: dict[str, Counter[str]] = {}
    denials: Counter[str] = Counter()
    for e in entries:
        calls.setdefault(e.fields["purpose"], Counter())[e.fields["operation"]] += 1
        if e.fields["decision"] == "deny":
            denials[e.fields["rule_id"]] += 1
    purposes = [p for p in service.list_purposes(ctx) if purpose is None or p.name == purpose]
    consents = service.list_consents(ctx)
    erasures = service.governance.erasures(ctx.tenant)
    verification = service.verify_ledger(ctx)
    return AccountabilityReport(
        tenant=ctx.tenant,
        purpose_filter=purpose,
        generated_at=now,
        policy_version=service.governance.policy(ctx.tenant)[0].version,
        policy_history=[
            {
                "version": v.version,
                "sha256": v.sha256,
                "applied_by": v.applied_by,
                "at": v.created_at.isoformat(timespec="seconds"),
            }
            for v in service.policy_history(ctx)
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
            for p in purposes
        ],
        calls_by_operation={k: dict(v) for k, v in sorted(calls.items())},
        denials_by_rule=dict(denials.most_common()),
        reviews=_reviews(service, ctx.tenant, purpose),
        consent={
            "records": len(consents),
            "in_force": sum(c.withdrawn_at is None and (c.expires_at is None or c.expires_at > now) for c in consents),
            "withdrawn": sum(c.withdrawn_at is not None for c in consents),
            "expired": sum(
                c.withdrawn_at is None and c.expires_at is not None and c.expires_at <= now for c in consents
            ),
        },
        retention=_retention(service, ctx.tenant, purpose, now, entries),
        erasures=dict(Counter(str(e.get("reason", "")) for e in erasures)),
        models=_models(service, ctx.tenant),
        ledger={
            "entries": verification.entries,
            "checkpoints": verification.checkpoints,
            "intact": verification.ok,
            "problems": verification.problems,
        },
    )


def _reviews(service: Regard, tenant: str, purpose: str | None) -> dict[str, Any]:
    with service.governance.tx() as s:
        query = select(ReviewCaseRow).where(ReviewCaseRow.tenant == tenant)
        if purpose is not None:
            query = query.where(ReviewCaseRow.purpose == purpose)
        cases = list(s.scalars(query))
        actions = Counter(
            a
            for (a,) in s.execute(
                select(ReviewActionRow.action).join(ReviewCaseRow).where(ReviewCaseRow.tenant == tenant)
            )
        )
    hours = [(c.decided_at - c.created_at).total_seconds() / 3600 for c in cases if c.decided_at]
    return {
        "cases": len(cases),
        "pending": sum(c.status == "pending" for c in cases),
        "released": sum(c.status == "released" for c in cases),
        "rejected": sum(c.status == "rejected" for c in cases),
        "confirm_actions": actions.get("confirm", 0),
        "reject_actions": actions.get("reject", 0),
        "median_hours_to_decision": round(statistics.median(hours), 2) if hours else None,
    }


def _retention(service: Regard, tenant: str, purpose: str | None, now: datetime, entries: list[Any]) -> dict[str, int]:
    with service.governance.tx() as s:
        base = select(func.count()).select_from(FaceRow).join(CollectionRow).where(CollectionRow.tenant == tenant)
        if purpose is not None:
            base = base.where(CollectionRow.purpose == purpose)
        stored = s.scalar(base) or 0
        due = s.scalar(base.where(FaceRow.delete_by.is_not(None), FaceRow.delete_by <= now + timedelta(days=30))) or 0
    purged = sum(
        int(e.fields.get("result", {}).get("templates", 0)) for e in entries if e.fields["operation"] == "purge"
    )
    return {"templates_stored": int(stored), "due_within_30_days": int(due), "purged": purged}


def _models(service: Regard, tenant: str) -> list[dict[str, Any]]:
    with service.governance.tx() as s:
        in_use = sorted(set(s.scalars(select(CollectionRow.model_id).where(CollectionRow.tenant == tenant))))
    out = []
    for model_id in in_use:
        spec = service.registry.spec(model_id)
        out.append(
            {
                "model": model_id,
                "version": spec.version,
                "licence": spec.licence,
                "measured": dict(spec.measured),
                "calibration": spec.calibration,
                "fairness": service.fairness_summary(model_id, tenant),
            }
        )
    return out


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
    return "\n".join(lines) + "\n"


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
