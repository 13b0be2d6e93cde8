"""Map Regard's exception tree to exit codes and one clear line on stderr, once, at the edge."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from regard.errors import RegardError

NO_MATCH_EXIT = 10  # compare / search ran fine but found no match (like grep's 1)

F = TypeVar("F", bound=Callable[..., Any])


def handles_errors(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RegardError as exc:
            typer.secho(f"error ({exc.code}): {exc}", err=True, fg=typer.colors.RED)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]
