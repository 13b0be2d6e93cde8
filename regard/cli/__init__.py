"""The ``regard`` command: a Typer app whose commands mirror the library verb for verb."""
