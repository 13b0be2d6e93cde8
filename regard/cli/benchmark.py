"""``regard benchmark verify|throughput``: the benchmarks' library calls on your own data."""

from __future__ import annotations

from pathlib import Path

import typer

from regard.cli.errors import handles_errors
from regard.cli.output import emit_json, table
from regard.errors import InvalidInputError

app = typer.Typer(help="Measure accuracy and speed on a folder tree <identity>/<image>.", no_args_is_help=True)


@app.command("verify")
@handles_errors
def verify_tree(
    folder: Path = typer.Argument(..., help="Folder tree <identity>/<image>."),
    model: str = typer.Option("sface", help="Embedder model id."),
    processes: int = typer.Option(0, min=0, help="Worker processes (0: one per core)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """10-fold verification accuracy (identities split across folds), TAR at FMR 1e-3 and EER."""
    from regard.evaluation.imagesets import embed_paths, scan_tree
    from regard.evaluation.protocol import tree_pairs, verify

    images = scan_tree(folder)
    if len(set(images.identities)) < 10:
        raise InvalidInputError(f"{folder}: need at least 10 identity folders")
    embedded = embed_paths(images.paths, model, {}, processes)
    report = verify(embedded.vectors, embedded.found, tree_pairs(images.identities))
    if json_out:
        emit_json(report)
        return
    table(f"{folder} with {model}", ["measure", "value"], [[k, v] for k, v in vars(report).items()])


@app.command("throughput")
@handles_errors
def throughput(
    folder: Path = typer.Argument(..., help="Folder of images (searched recursively)."),
    processes: int = typer.Option(1, min=1, help="Worker processes, one onnxruntime thread each."),
    limit: int = typer.Option(200, min=1, help="Use at most this many images."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Images per second end to end (decode, detect, quality, embed) and ms per stage."""
    from regard.evaluation.imagesets import IMAGE_SUFFIXES
    from regard.evaluation.throughput import measure

    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)[:limit]
    if not paths:
        raise InvalidInputError(f"{folder}: no images found")
    report = measure(paths, processes)
    if json_out:
        emit_json(report)
        return
    table(
        f"{len(paths)} images, {processes} process(es)", ["measure", "value"], [[k, v] for k, v in vars(report).items()]
    )
