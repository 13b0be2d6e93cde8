"""Map Regard's exception tree to exit codes and one clear line on stderr, once, at the edge."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from regard import errors

NO_MATCH_EXIT = 10  # compare / search ran fine but found no match (like grep's 1)
GATE_FAILED_EXIT = 11  # a fairness report breaks the policy (like a failed test)
LEDGER_BROKEN_EXIT = 15  # the ledger does not verify
POLICY_DENIED_EXIT = 14
INDEX_DRIFT_EXIT = 16  # `index check`: store and index disagree (and --repair was not asked for)

# Most specific first: the first class the error is an instance of gives its code.
EXIT_CODES: tuple[tuple[type[errors.RegardError], int], ...] = (
    (errors.InvalidImageError, 3),  # ImageTooLargeError included
    (errors.InvalidInputError, 2),
    (errors.NoFaceError, 4),
    (errors.NotFoundError, 5),
    (errors.AlreadyExistsError, 6),
    (errors.ConflictError, 6),
    (errors.ModelMismatchError, 7),
    (errors.ModelUnavailableError, 8),
    (errors.StoreError, 9),
    (errors.AuthenticationError, 12),
    (errors.PermissionDeniedError, 13),
    (errors.PolicyDeniedError, POLICY_DENIED_EXIT),
    (errors.RegardError, 1),
)


# What a person at the command line does next, by the rule that refused them.
HINTS: dict[str, str] = {
    "GOV-PURPOSE-UNDECLARED": (
        "declare a purpose with `regard purpose declare NAME --category photo-organisation"
        " --legal-basis legitimate-interests --data-subjects WHO --retention-days 30 --max-subjects 1000`"
        " (see `regard purpose declare --help`), then pass it with `--purpose NAME` or REGARD_PURPOSE=NAME"
    ),
}


def message(error: errors.RegardError) -> str:
    """The one line printed for an error, with what to do next when the CLI knows it."""
    hint = HINTS.get(error.rule_id) if isinstance(error, errors.PolicyDeniedError) else None
    return f"error ({error.code}): {error}" + (f"; {hint}" if hint else "")


def exit_code(error: errors.RegardError) -> int:
    return next(code for kind, code in EXIT_CODES if isinstance(error, kind))


F = TypeVar("F", bound=Callable[..., Any])


def handles_errors(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except errors.RegardError as exc:
            typer.secho(message(exc), err=True, fg=typer.colors.RED)
            raise typer.Exit(exit_code(exc)) from None

    return wrapper  # type: ignore[return-value]
