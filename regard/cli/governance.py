"""``regard tenant|key|purpose|policy|application`` — setting up who may do what, and why."""

from __future__ import annotations

from pathlib import Path

import typer

from regard.cli.errors import POLICY_DENIED_EXIT, handles_errors
from regard.cli.output import emit_json, read_input, table
from regard.cli.state import state
from regard.governance.roles import Operation

tenant_app = typer.Typer(help="Tenants (organisations).", no_args_is_help=True)
key_app = typer.Typer(help="API keys: hashed at rest, scoped to a tenant, revocable, expiring.", no_args_is_help=True)
purpose_app = typer.Typer(help="Declared purposes: every biometric call names one.", no_args_is_help=True)
policy_app = typer.Typer(help="The tenant's policy (YAML): apply, show, history, explain.", no_args_is_help=True)
application_app = typer.Typer(
    help="Applications to exceed a scale limit or use a restricted category.", no_args_is_help=True
)


@tenant_app.command("create")
@handles_errors
def tenant_create(
    ctx: typer.Context,
    tenant: str = typer.Argument(..., help="Tenant id."),
    name: str = typer.Option("", help="Display name."),
) -> None:
    """Create a tenant."""
    current = state(ctx)
    current.service().create_tenant(tenant, current.context(), name)
    typer.echo(f"created tenant '{tenant}'")


@tenant_app.command("list")
@handles_errors
def tenant_list(ctx: typer.Context) -> None:
    """List tenants."""
    current = state(ctx)
    for tenant in current.service().list_tenants(current.context()):
        typer.echo(tenant)


@key_app.command("create")
@handles_errors
def key_create(
    ctx: typer.Context,
    role: list[str] = typer.Option(..., help="admin, operator, reviewer or auditor; repeat for several."),
    owner: str | None = typer.Option(
        None, help="The person the key belongs to; reviews count people (default: the key is its own person)."
    ),
    label: str = typer.Option("", help="What the key is for."),
    expires_days: int = typer.Option(365, min=0, help="Days until it expires (0: never)."),
    for_tenant: str | None = typer.Option(None, "--for-tenant", help="Tenant of the key (default: --tenant)."),
) -> None:
    """Create an API key; the token is printed once and never stored."""
    current = state(ctx)
    key = current.service().create_api_key(
        role, current.context(), owner=owner, label=label, expires_in_days=expires_days or None, tenant=for_tenant
    )
    typer.echo(key.token)


@key_app.command("list")
@handles_errors
def key_list(ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the tenant's keys (never their secrets)."""
    current = state(ctx)
    infos = current.service().list_api_keys(current.context())
    if json_out:
        emit_json(infos)
        return
    rows = [[k.key_id, k.owner, ",".join(k.roles), k.label, k.expires_at or "never", k.revoked_at or ""] for k in infos]
    table("API keys", ["key id", "owner", "roles", "label", "expires", "revoked"], rows)


@key_app.command("revoke")
@handles_errors
def key_revoke(ctx: typer.Context, key_id: str = typer.Argument(..., help="Key id.")) -> None:
    """Revoke a key at once."""
    current = state(ctx)
    current.service().revoke_api_key(key_id, current.context())
    typer.echo(f"revoked {key_id}")


@purpose_app.command("declare")
@handles_errors
def purpose_declare(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Purpose name, as calls will cite it."),
    category: str = typer.Option(
        ...,
        help="photo-organisation, access-control, identity-verification, "
        "investigative-lead, public-safety-identification.",
    ),
    legal_basis: str = typer.Option(
        ..., help="consent, contract, legal-obligation, vital-interests, public-task, legitimate-interests."
    ),
    data_subjects: str = typer.Option(..., help="Who the people in its collections are."),
    retention_days: int = typer.Option(
        ..., min=1, max=1095, help="Templates are deleted this many days after enrollment."
    ),
    max_subjects: int = typer.Option(..., min=1, help="Largest collection size this purpose allows."),
    consequential: bool = typer.Option(False, "--consequential", help="Results can have consequences for a person."),
    description: str = typer.Option("", help="Free text."),
) -> None:
    """Declare a purpose (prohibited categories are refused)."""
    current = state(ctx)
    purpose = current.service().declare_purpose(
        name,
        current.context(),
        category=category,
        legal_basis=legal_basis,
        data_subjects=data_subjects,
        retention_days=retention_days,
        max_collection_subjects=max_subjects,
        consequential=consequential,
        description=description,
    )
    typer.echo(f"declared purpose '{purpose.name}' ({purpose.category}, {purpose.legal_basis})")


@purpose_app.command("list")
@handles_errors
def purpose_list(ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the tenant's purposes."""
    current = state(ctx)
    purposes = current.service().list_purposes(current.context())
    if json_out:
        emit_json(purposes)
        return
    rows = [
        [
            p.name,
            p.category,
            p.legal_basis,
            p.retention_days,
            p.max_collection_subjects,
            "yes" if p.consequential else "no",
            p.data_subjects,
        ]
        for p in purposes
    ]
    table(
        "purposes",
        ["name", "category", "legal basis", "retention d", "max subjects", "consequential", "subjects"],
        rows,
    )


@policy_app.command("apply")
@handles_errors
def policy_apply(ctx: typer.Context, file: Path = typer.Argument(..., help="Policy YAML.")) -> None:
    """Apply a new policy version (each version can be applied once)."""
    current = state(ctx)
    text = read_input(file).decode("utf-8", errors="replace")
    version = current.service().apply_policy(text, current.context())
    typer.echo(f"policy {version.version} in force (sha256 {version.sha256[:12]})")


@policy_app.command("show")
@handles_errors
def policy_show(ctx: typer.Context) -> None:
    """Print the policy in force."""
    current = state(ctx)
    typer.echo(current.service().policy_text(current.context()))


@policy_app.command("history")
@handles_errors
def policy_history(ctx: typer.Context) -> None:
    """Every version applied, with who applied it."""
    current = state(ctx)
    rows = [
        [v.version, v.sha256[:12], v.applied_by, v.created_at.isoformat(timespec="seconds")]
        for v in current.service().policy_history(current.context())
    ]
    table("policy versions", ["version", "sha256", "applied by", "at"], rows)


@policy_app.command("explain")
@handles_errors
def policy_explain(
    ctx: typer.Context,
    operation: Operation = typer.Argument(..., help="detect, compare, enroll, search, ..."),
    collection: str | None = typer.Option(None, help="Collection the call would use."),
    subjects_after: int | None = typer.Option(None, help="Collection size after an enrollment."),
    probe_faces: int = typer.Option(1, min=1, help="Faces searched at once."),
    source: str = typer.Option("upload", help="upload, stored-face, camera, stream or bulk."),
    provenance: str = typer.Option("upload", help="Where enrolled images come from."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Dry run: what the policy would decide for such a call, and why.  Exit 14 for deny."""
    current = state(ctx)
    decision = current.service().explain(
        current.context(),
        operation,
        collection,
        subjects_after=subjects_after,
        probe_faces=probe_faces,
        source=source,
        provenance=provenance,
    )
    if json_out:
        emit_json(decision)
    else:
        typer.echo(f"{decision.effect}: {decision.reason} [rule {decision.rule_id}, policy {decision.policy_version}]")
        table("rules checked", ["rule", "outcome"], list(decision.trace))
    if decision.effect == "deny":
        raise typer.Exit(POLICY_DENIED_EXIT)


@application_app.command("submit")
@handles_errors
def application_submit(
    ctx: typer.Context,
    kind: str = typer.Argument(..., help="scale or category."),
    purpose: str = typer.Argument(..., help="Purpose it is for."),
    justification: str = typer.Option(..., help="Why."),
    max_subjects: int | None = typer.Option(None, help="scale: collection size asked for."),
    max_searches_per_day: int | None = typer.Option(None, help="scale: daily searches asked for."),
) -> None:
    """Apply to go above a scale limit or to use a restricted category."""
    current = state(ctx)
    requested = {k: v for k, v in (("max_subjects", max_subjects), ("max_searches_per_day", max_searches_per_day)) if v}
    app = current.service().submit_application(kind, purpose, requested, justification, current.context())  # type: ignore[arg-type]
    typer.echo(f"application {app.id} submitted")


@application_app.command("list")
@handles_errors
def application_list(ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Applications with their status."""
    current = state(ctx)
    apps = current.service().list_applications(current.context())
    if json_out:
        emit_json(apps)
        return
    rows = [
        [a.id, a.kind, a.purpose, a.requested, a.status, a.submitted_by, a.decided_by or "", a.expires_at or ""]
        for a in apps
    ]
    table("applications", ["id", "kind", "purpose", "requested", "status", "by", "decided by", "expires"], rows)


def _decide(ctx: typer.Context, application_id: int, approve: bool, reason: str, valid_days: int) -> None:
    current = state(ctx)
    app = current.service().decide_application(application_id, approve, reason, current.context(), valid_days)
    typer.echo(f"application {app.id} {app.status}")


@application_app.command("approve")
@handles_errors
def application_approve(
    ctx: typer.Context,
    application_id: int = typer.Argument(..., help="Application id."),
    reason: str = typer.Option(..., help="Justification."),
    valid_days: int = typer.Option(365, min=1, help="The approval expires after this many days."),
) -> None:
    """Approve (reviewer role; not the submitter)."""
    _decide(ctx, application_id, True, reason, valid_days)


@application_app.command("reject")
@handles_errors
def application_reject(
    ctx: typer.Context,
    application_id: int = typer.Argument(..., help="Application id."),
    reason: str = typer.Option(..., help="Justification."),
) -> None:
    """Reject (reviewer role; not the submitter)."""
    _decide(ctx, application_id, False, reason, 1)
