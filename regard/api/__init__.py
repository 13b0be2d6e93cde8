"""The REST API: a FastAPI app over the ``Regard`` service, under ``/v1``.

``create_app`` (``regard.api.app``) builds it; ``regard serve`` runs it.  The
routers (``routes/``, one per resource) parse requests into service calls and
map the results to the schemas (``schemas/``); errors become RFC 9457
problem+json in one place (``problems.py``).  No rule of the service lives here.
"""
