"""The web dashboard: server-rendered pages for operators, reviewers and auditors, served beside the API.

``install(app)`` is the API app factory's extension (``create_app`` calls it when ``settings.dashboard``): it adds
the pages under ``/dashboard``, their static files, the session store, and turns errors on dashboard paths into
readable pages (the API keeps its problem+json).  Every page calls ``Regard`` methods with the visitor's call
context, nothing else: the rules stay in the service.

htmx is vendored, pinned and checked: ``static/htmx-2.0.11.min.js`` is ``dist/htmx.min.js`` of the npm package
``htmx.org`` 2.0.11 (licence 0BSD), sha256 below; the page loads it with its Subresource Integrity hash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

HTMX_VERSION = "2.0.11"
HTMX_FILE = f"htmx-{HTMX_VERSION}.min.js"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
HTMX_INTEGRITY = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"

if TYPE_CHECKING:
    from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Add the dashboard to the API's app (routes, static files, sessions, error pages, security headers)."""
    from regard.dashboard.mount import mount

    mount(app)
