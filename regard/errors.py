"""Regard's exception tree: every error the library raises on purpose is a ``RegardError``.

The edges map these once: cli/ to exit codes, api/ to problem+json.
"""

from __future__ import annotations


class RegardError(Exception):
    """Base of every error Regard raises on purpose."""

    code = "regard_error"
    exit_code = 1


class InvalidInputError(RegardError):
    """A request is malformed (bad argument, unknown option)."""

    code = "invalid_input"
    exit_code = 2


class InvalidImageError(InvalidInputError):
    """The input is not a decodable image (corrupt, truncated, wrong format, empty)."""

    code = "invalid_image"
    exit_code = 3


class ImageTooLargeError(InvalidImageError):
    """The input exceeds the configured byte or pixel limit (decompression bombs included)."""

    code = "image_too_large"
    exit_code = 3


class NoFaceError(RegardError):
    """An operation needed a face and the image has none that qualifies."""

    code = "no_face"
    exit_code = 4


class NotFoundError(RegardError):
    """A collection, subject, face or model does not exist."""

    code = "not_found"
    exit_code = 5


class AlreadyExistsError(RegardError):
    """Creating something whose name is already taken."""

    code = "already_exists"
    exit_code = 6


class ModelMismatchError(RegardError):
    """Templates from different embedding models were to be compared or searched together."""

    code = "model_mismatch"
    exit_code = 7


class ModelUnavailableError(RegardError):
    """A model's weights or runtime cannot be loaded (missing package, wrong checksum)."""

    code = "model_unavailable"
    exit_code = 8


class StoreError(RegardError):
    """The database is unusable (schema too new, file not a database)."""

    code = "store_error"
    exit_code = 9


class AuthenticationError(RegardError):
    """An API key is unknown, malformed, revoked or expired."""

    code = "unauthenticated"
    exit_code = 12


class PermissionDeniedError(RegardError):
    """The caller's roles do not allow this operation."""

    code = "forbidden"
    exit_code = 13


class PolicyDeniedError(RegardError):
    """The policy engine denied the call; carries the rule and policy version it cites."""

    code = "policy_denied"
    exit_code = 14

    def __init__(self, reason: str, rule_id: str, policy_version: str = "") -> None:
        super().__init__(f"{reason} [rule {rule_id}{', policy ' + policy_version if policy_version else ''}]")
        self.reason = reason
        self.rule_id = rule_id
        self.policy_version = policy_version


class ConflictError(RegardError):
    """The request conflicts with the current state (e.g. a review already decided)."""

    code = "conflict"
    exit_code = 6
