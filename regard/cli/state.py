"""What every command needs: global options, a lazily opened service, and the call context."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from regard.context import CallContext

if TYPE_CHECKING:
    from regard.service import Regard


@dataclass
class CliState:
    data_dir: Path | None = None
    tenant: str = "default"
    purpose: str = "unspecified"
    _service: Regard | None = None

    def service(self) -> Regard:
        if self._service is None:
            from regard.service import Regard

            self._service = Regard(data_dir=self.data_dir) if self.data_dir else Regard()
        return self._service

    def context(self) -> CallContext:
        return CallContext(actor=f"cli:{getpass.getuser()}", tenant=self.tenant, purpose=self.purpose)


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj
