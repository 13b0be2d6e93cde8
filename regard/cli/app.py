"""The Typer application: global options and the command tree."""

from __future__ import annotations

from pathlib import Path

import typer

from regard.cli import (
    audit,
    batch,
    benchmark,
    collections,
    demo,
    detect,
    enroll,
    faces,
    governance,
    index,
    models,
    oversight,
    serve,
)
from regard.cli.errors import handles_errors
from regard.cli.state import state

app = typer.Typer(
    name="regard",
    help="Self-hosted face recognition, accountable by construction.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    data_dir: Path | None = typer.Option(
        None, envvar="REGARD_DATA_DIR", help="Data directory (database, model cache)."
    ),
    tenant: str = typer.Option("default", envvar="REGARD_TENANT", help="Tenant whose collections are used."),
    purpose: str = typer.Option("unspecified", envvar="REGARD_PURPOSE", help="Declared purpose of the call."),
    api_key: str | None = typer.Option(None, envvar="REGARD_API_KEY", help="Act as this API key (its tenant, roles)."),
    case_reference: str | None = typer.Option(
        None, envvar="REGARD_CASE_REFERENCE", help="Documented individual target of an investigative search."
    ),
) -> None:
    """Global options; every command runs through the same service as the library."""
    current = state(ctx)
    current.data_dir, current.tenant, current.purpose = data_dir, tenant, purpose
    current.api_key, current.case_reference = api_key, case_reference
    ctx.call_on_close(handles_errors(current.close))


app.command("detect")(detect.detect)
app.command("compare")(detect.compare)
app.command("enroll")(enroll.enroll)
app.command("search")(enroll.search)
app.command("demo")(demo.demo)
app.add_typer(collections.app, name="collection")
app.add_typer(index.app, name="index")
app.add_typer(batch.app, name="batch")
app.add_typer(faces.faces_app, name="faces")
app.add_typer(faces.subjects_app, name="subjects")
app.add_typer(models.app, name="models")
app.add_typer(benchmark.app, name="benchmark")
app.add_typer(audit.app, name="audit")
app.add_typer(governance.tenant_app, name="tenant")
app.add_typer(governance.key_app, name="key")
app.add_typer(governance.purpose_app, name="purpose")
app.add_typer(governance.policy_app, name="policy")
app.add_typer(governance.application_app, name="application")
app.add_typer(oversight.consent_app, name="consent")
app.add_typer(oversight.review_app, name="review")
app.add_typer(oversight.ledger_app, name="ledger")
app.command("erase")(oversight.erase)
app.command("purge")(oversight.purge)
app.command("report")(oversight.report)
app.command("serve")(serve.serve)


def run() -> None:
    app()
