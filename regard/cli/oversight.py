"""``regard consent|erase|purge|review|ledger|report`` — the data subject's rights and the record of use."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from regard.cli.errors import LEDGER_BROKEN_EXIT, handles_errors
from regard.cli.output import emit_json, read_input, table, write_output
from regard.cli.state import state

if TYPE_CHECKING:
    from regard.operations.erasure import ErasureReceipt

consent_app = typer.Typer(help="Consent records; withdrawing one erases the subject's templates.", no_args_is_help=True)
review_app = typer.Typer(help="Human review of held identifications (two reviewers per match).", no_args_is_help=True)
ledger_app = typer.Typer(help="The tamper-evident audit ledger.", no_args_is_help=True)


@consent_app.command("record")
@handles_errors
def consent_record(
    ctx: typer.Context,
    subject: str = typer.Argument(..., help="Subject id, as used in collections."),
    purpose: list[str] = typer.Option(..., help="Purpose consented to; repeat for several."),
    evidence: str = typer.Option(..., help="Reference to the evidence (signed form, log entry)."),
    scope: str = typer.Option("", help="What the consent covers, in words."),
    expires: datetime | None = typer.Option(None, help="When the consent lapses (YYYY-MM-DD)."),
) -> None:
    """Record a subject's consent."""
    current = state(ctx)
    record = current.service().record_consent(
        subject, purpose, evidence, current.context(), scope=scope, expires_at=expires
    )
    typer.echo(f"consent {record.id} recorded for '{subject}'")


@consent_app.command("list")
@handles_errors
def consent_list(ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Consent records of the tenant."""
    current = state(ctx)
    consents = current.service().list_consents(current.context())
    if json_out:
        emit_json(consents)
        return
    rows = [
        [
            c.id,
            c.subject,
            ",".join(c.purposes),
            c.evidence_ref,
            c.given_at.date(),
            c.expires_at or "",
            c.withdrawn_at or "",
        ]
        for c in consents
    ]
    table("consents", ["id", "subject", "purposes", "evidence", "given", "expires", "withdrawn"], rows)


@consent_app.command("withdraw")
@handles_errors
def consent_withdraw(
    ctx: typer.Context,
    subject: str = typer.Argument(..., help="Subject id."),
    json_out: bool = typer.Option(False, "--json", help="Print the receipt as JSON."),
) -> None:
    """Withdraw consent and erase the subject's templates; prints the erasure receipt."""
    current = state(ctx)
    _print_receipt(current.service().withdraw_consent(subject, current.context()), json_out)


def _print_receipt(receipt: ErasureReceipt, json_out: bool) -> None:
    if json_out:
        emit_json(receipt)
        return
    scope = ", ".join(receipt.scope) if receipt.scope is not None else "every collection of the tenant"
    rows: list[list[object]] = [["scope", scope]]
    rows += [[f"removed from '{c}'", f"{len(faces)} template(s)"] for c, faces in sorted(receipt.removed.items())]
    rows += [
        ["thumbnails deleted", receipt.thumbnails],
        ["index entries removed", receipt.index_entries],
        ["review cases voided", ", ".join(receipt.review_cases_voided) or "none"],
        ["consents ended", receipt.consents_ended],
    ]
    rows += [[f"still in '{c}'", f"{n} template(s)"] for c, n in sorted(receipt.remaining.items())]
    rows += [
        ["ledger entry", f"{receipt.ledger_seq} ({receipt.ledger_hash[:16]}...)"],
        ["nothing left in the scope", "yes" if receipt.absent_from_scope else "NO"],
        ["nothing of the subject remains", "yes" if receipt.verified_absent else "NO"],
        ["deleted bytes flushed from the database log", "yes" if receipt.storage_scrubbed else "no"],
    ]
    table(f"erasure receipt for '{receipt.subject}' ({receipt.reason})", ["item", "value"], rows)


@handles_errors
def erase(
    ctx: typer.Context,
    subject: str = typer.Argument(..., help="Subject id."),
    collection: list[str] | None = typer.Option(None, help="Only these collections (default: all of the tenant)."),
    json_out: bool = typer.Option(False, "--json", help="Print the receipt as JSON."),
) -> None:
    """Erase a subject (an erasure request); prints the receipt."""
    current = state(ctx)
    _print_receipt(current.service().erase_subject(subject, current.context(), collections=collection), json_out)


@handles_errors
def purge(
    ctx: typer.Context,
    all_tenants: bool = typer.Option(False, "--all-tenants", help="Every tenant (the scheduled job)."),
    every_hours: float | None = typer.Option(None, "--every", help="Keep running: purge all tenants every N hours."),
) -> None:
    """Delete every template past its delete-by date."""
    current = state(ctx)
    if every_hours is not None:
        from regard.scheduler import PurgeScheduler

        scheduler = PurgeScheduler(current.service(), every_hours * 3600, current.context())
        scheduler.start()
        typer.echo(f"purging every {every_hours:g} h; Ctrl-C to stop")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            scheduler.stop()
        return
    report = current.service().purge(current.context(), all_tenants=all_tenants)
    typer.echo(f"purged {report.templates} template(s)" + "".join(f"; {t}: {n}" for t, n in report.by_tenant.items()))


@review_app.command("list")
@handles_errors
def review_list(ctx: typer.Context) -> None:
    """Pending review cases."""
    current = state(ctx)
    for case_id in current.service().pending_reviews(current.context()):
        typer.echo(case_id)


@review_app.command("show")
@handles_errors
def review_show(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help="Case id."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The probe, the candidates, the threshold and the model's measured error rates."""
    current = state(ctx)
    case = current.service().review_case(case_id, current.context())
    if json_out:
        emit_json(case)
        return
    typer.echo(
        f"case {case.id}: {case.status}; collection '{case.collection}', purpose '{case.purpose}', "
        f"asked by {case.requested_by}; model {case.model_id}, cosine threshold {case.threshold:.3f}"
    )
    typer.echo("model error rates: " + ", ".join(f"{k} {v:.3g}" for k, v in case.model_error_rates.items()))
    rows = [[c["subject"], c["display_name"], c["similarity"], c["score"], c["status"]] for c in case.candidates]
    table("candidates", ["subject", "name", "cosine", "score", "status"], rows)
    if case.actions:
        table(
            "review actions",
            ["reviewer", "subject", "action", "justification"],
            [[a.reviewer, a.subject, a.action, a.justification] for a in case.actions],
        )


def _act(ctx: typer.Context, case_id: str, subject: str, action: str, justification: str) -> None:
    current = state(ctx)
    status = current.service().review_candidate(case_id, subject, action, justification, current.context())  # type: ignore[arg-type]
    typer.echo(f"case {case_id}: {status}")


@review_app.command("confirm")
@handles_errors
def review_confirm(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help="Case id."),
    subject: str = typer.Argument(..., help="Candidate subject."),
    justification: str = typer.Option(..., help="Why."),
) -> None:
    """Confirm a candidate (a match is released after two different reviewers confirm)."""
    _act(ctx, case_id, subject, "confirm", justification)


@review_app.command("reject")
@handles_errors
def review_reject(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help="Case id."),
    subject: str = typer.Argument(..., help="Candidate subject."),
    justification: str = typer.Option(..., help="Why."),
) -> None:
    """Reject a candidate."""
    _act(ctx, case_id, subject, "reject", justification)


@review_app.command("result")
@handles_errors
def review_result(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help="Case id."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What the requester may see: only confirmed matches."""
    current = state(ctx)
    case = current.service().review_result(case_id, current.context())
    if json_out:
        emit_json({"case": case.id, "status": case.status, "released": case.released})
        return
    typer.echo(f"case {case.id}: {case.status}")
    table(
        "released matches",
        ["subject", "name", "score"],
        [[c["subject"], c["display_name"], c["score"]] for c in case.released],
    )


@ledger_app.command("verify")
@handles_errors
def ledger_verify(
    ctx: typer.Context,
    against: Path | None = typer.Option(
        None, "--against", help="A published accountability report (.md, .html, .json): its checkpoint must hold."
    ),
    public_key: str | None = typer.Option(
        None, "--public-key", help="Trust this public key (64 hex characters, or a file holding them)."
    ),
    witness: list[Path] | None = typer.Option(
        None, "--witness", help="A witness copy to check too (e.g. the syslog server's file); repeat for several."
    ),
) -> None:
    """Recompute the hash chain, check checkpoints, witnesses and a report.  Exit 15 when anything is wrong."""
    current = state(ctx)
    report_text = read_input(against).decode("utf-8", errors="replace") if against is not None else None
    copies = {str(path): read_input(path).decode("utf-8", errors="replace") for path in witness or []}
    result = current.service().verify_ledger(
        current.context(), against=report_text, public_key=public_key, witness_copies=copies
    )
    typer.echo(
        f"tenant {result.tenant}: {result.entries} entries, {result.checkpoints} checkpoint(s), "
        f"{result.witnessed} witnessed in {len(result.witnesses)} witness(es)"
    )
    key = f"key {result.trusted_key_id} ({result.trusted_key_source})" if result.trusted_key_id else "no trusted key"
    typer.echo(f"signatures checked against {key}")
    if result.against_seq is not None:
        typer.echo(f"report checkpoint: entry {result.against_seq}")
    for note in result.notes:
        typer.echo(f"  note: {note}")
    for problem in result.problems:
        typer.secho(f"  {problem}", fg=typer.colors.RED)
    if not result.ok:
        raise typer.Exit(LEDGER_BROKEN_EXIT)
    typer.echo("ledger intact" + (f"; unchanged since the report (entry {result.against_seq})" if against else ""))


@ledger_app.command("export")
@handles_errors
def ledger_export(ctx: typer.Context, target: Path = typer.Argument(..., help="JSON Lines file to write.")) -> None:
    """Export the tenant's ledger as JSON Lines."""
    current = state(ctx)
    count = write_output(target, current.service().export_ledger(current.context()))
    typer.echo(f"wrote {count} entries to {target}")


@ledger_app.command("checkpoint")
@handles_errors
def ledger_checkpoint(ctx: typer.Context) -> None:
    """Sign a checkpoint of the ledger's last entry now."""
    current = state(ctx)
    record = current.service().checkpoint_ledger(current.context())
    typer.echo("ledger is empty" if record is None else f"signed entry {record.seq} with key {record.key_id}")


@ledger_app.command("public-key")
@handles_errors
def ledger_public_key(
    ctx: typer.Context,
    out: Path | None = typer.Option(None, help="Also write it to this file (to pin it with ledger_public_key)."),
) -> None:
    """The public key that verifies the ledger's checkpoints (hex); pin it where verification runs."""
    current = state(ctx)
    key = current.service().ledger_public_key(current.context())
    if out is not None:
        write_output(out, [key + "\n"])
    typer.echo(key)


@ledger_app.command("show")
@handles_errors
def ledger_show(
    ctx: typer.Context,
    last: int = typer.Option(20, min=1, help="How many of the latest entries."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The latest entries."""
    current = state(ctx)
    entries = current.service().ledger_entries(current.context())[-last:]
    if json_out:
        emit_json([e.as_json() for e in entries])
        return
    rows = [
        [
            e.seq,
            e.at[:19],
            e.fields["actor"],
            e.fields["purpose"],
            e.fields["operation"],
            e.fields["decision"],
            e.fields["rule_id"],
            e.entry_hash[:12],
        ]
        for e in entries
    ]
    table("ledger", ["seq", "at", "actor", "purpose", "operation", "decision", "rule", "hash"], rows)


@handles_errors
def report(
    ctx: typer.Context,
    out: Path = typer.Option(..., help="File to write (.md, .html or .json)."),
    purpose: str | None = typer.Option(None, "--for-purpose", help="Only this purpose."),
) -> None:
    """The accountability report of the tenant (Markdown, HTML or JSON by file extension), with a signed checkpoint."""
    from regard.governance.report import render_html, render_json, render_markdown

    current = state(ctx)
    data = current.service().accountability_report(current.context(), purpose)
    suffix = out.suffix.lower()
    render = render_html if suffix in (".html", ".htm") else render_json if suffix == ".json" else render_markdown
    write_output(out, [render(data)])
    typer.echo(f"wrote {out}" + (f"; ledger signed at entry {data.checkpoint.seq}" if data.checkpoint else ""))
