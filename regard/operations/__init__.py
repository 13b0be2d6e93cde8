"""The service's parts, one per resource, behind the front door ``regard.service.Regard``.

- ``faces``: detect, compare, enroll, search
- ``collections``: collections, subjects and faces: listing and deletion
- ``administration``: tenants, API keys, purposes, policies, applications
- ``oversight``: consent, erasure, retention, human review
- ``records``: the ledger and the accountability report
- ``models``: the model registry and the fairness deployment gate

Each part gets the same ``Parts`` and passes every call through ``Parts.guard``.
"""
