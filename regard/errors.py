"""Regard's exception tree: every error the library raises on purpose is a ``RegardError``.

Each class has a stable ``code``.  The edges map the tree once: cli/ to exit
codes (``regard/cli/errors.py``), api/ to HTTP statuses and problem+json.
"""

from __future__ import annotations


class RegardError(Exception):
    """Base of every error Regard raises on purpose."""

    code = "regard_error"


class InvalidInputError(RegardError):
    """A request is malformed (bad argument, unknown option)."""

    code = "invalid_input"


class InvalidImageError(InvalidInputError):
    """The input is not a decodable image (corrupt, truncated, wrong format, empty)."""

    code = "invalid_image"


class ImageTooLargeError(InvalidImageError):
    """The input exceeds the configured byte or pixel limit (decompression bombs included)."""

    code = "image_too_large"


class NoFaceError(RegardError):
    """An operation needed a face and the image has none that qualifies."""

    code = "no_face"


class NotFoundError(RegardError):
    """A collection, subject, face or model does not exist."""

    code = "not_found"


class AlreadyExistsError(RegardError):
    """Creating something whose name is already taken."""

    code = "already_exists"


class ModelMismatchError(RegardError):
    """Templates from different embedding models were to be compared or searched together."""

    code = "model_mismatch"


class ModelUnavailableError(RegardError):
    """A model's weights or runtime cannot be loaded (missing package, wrong checksum)."""

    code = "model_unavailable"


class StoreError(RegardError):
    """The database is unusable (schema too new, file not a database)."""

    code = "store_error"


class AuthenticationError(RegardError):
    """An API key is unknown, malformed, revoked or expired."""

    code = "unauthenticated"


class PermissionDeniedError(RegardError):
    """The caller's roles do not allow this operation."""

    code = "forbidden"


class PolicyDeniedError(RegardError):
    """The policy engine denied the call; carries the rule and policy version it cites."""

    code = "policy_denied"

    def __init__(self, reason: str, rule_id: str, policy_version: str = "") -> None:
        super().__init__(f"{reason} [rule {rule_id}{', policy ' + policy_version if policy_version else ''}]")
        self.reason = reason
        self.rule_id = rule_id
        self.policy_version = policy_version


class ConflictError(RegardError):
    """The request conflicts with the current state (e.g. a review already decided)."""

    code = "conflict"
