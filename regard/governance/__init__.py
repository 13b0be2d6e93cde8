"""Purposes, policy, consent, retention, human review and the audit ledger, enforced inside the service."""
