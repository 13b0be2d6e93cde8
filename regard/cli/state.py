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
    api_key: str | None = None
    case_reference: str | None = None
    _service: Regard | None = None

    def service(self) -> Regard:
        if self._service is None:
            from regard.service import Regard

            self._service = Regard(data_dir=self.data_dir) if self.data_dir else Regard()
        return self._service

    def close(self) -> None:
        """When the command ends: close the service (which signs a shutdown checkpoint of what it recorded)."""
        service, self._service = self._service, None
        if service is not None:
            service.close()

    def context(self) -> CallContext:
        """With an API key: its owner, tenant and roles.  Without: the local operator.

        The local operator is whoever can read the data directory; however
        ``$USER`` is set, they are one person (``local``), recorded with the OS
        user as the call's origin.
        """
        origin = f"cli:{getpass.getuser()}"
        if self.api_key is not None:
            return self.service().authenticate(self.api_key, self.purpose, self.case_reference, origin)
        return CallContext.local(self.tenant, self.purpose, case_reference=self.case_reference, origin=origin)


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj
