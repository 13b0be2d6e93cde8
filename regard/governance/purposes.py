"""Purpose declarations: why a tenant uses face recognition, on whom, under what legal basis, for how long."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from regard.errors import InvalidInputError, PolicyDeniedError

# Illinois BIPA: biometric identifiers are destroyed within 3 years of the last interaction.
MAX_RETENTION_DAYS = 3 * 365


class Category(StrEnum):
    PHOTO_ORGANISATION = "photo-organisation"  # consented photo libraries
    ACCESS_CONTROL = "access-control"
    IDENTITY_VERIFICATION = "identity-verification"  # 1:1
    INVESTIGATIVE_LEAD = "investigative-lead"  # a documented individual target
    PUBLIC_SAFETY_IDENTIFICATION = "public-safety-identification"  # police identification
    # Prohibited: no configuration can declare these (see prohibitions.py).
    MASS_SURVEILLANCE = "mass-surveillance"
    BIOMETRIC_CATEGORISATION = "biometric-categorisation"
    EMOTION_RECOGNITION = "emotion-recognition"
    SCRAPED_DATABASE = "scraped-database"


# Categories whose collections are watchlists: searches need an individual, documented target.
WATCHLIST_CATEGORIES = frozenset({Category.INVESTIGATIVE_LEAD, Category.PUBLIC_SAFETY_IDENTIFICATION})


class LegalBasis(StrEnum):
    """GDPR Art. 6 / Art. 9 bases; ``consent`` makes enrollment require a consent record."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal-obligation"
    VITAL_INTERESTS = "vital-interests"
    PUBLIC_TASK = "public-task"
    LEGITIMATE_INTERESTS = "legitimate-interests"


@dataclass(frozen=True)
class Purpose:
    name: str
    category: Category
    legal_basis: LegalBasis
    data_subjects: str  # who the people in the collections are
    retention_days: int
    max_collection_subjects: int
    consequential: bool  # can results have consequences for a person?
    description: str = ""
    tenant: str = ""
    declared_by: str = ""

    @property
    def needs_consent(self) -> bool:
        return self.legal_basis is LegalBasis.CONSENT


def validate(purpose: Purpose) -> None:
    """Refuse malformed declarations and the prohibited categories (with the built-in rule id)."""
    from regard.governance.prohibitions import PROHIBITED_CATEGORIES

    if purpose.category in PROHIBITED_CATEGORIES:
        rule_id, reason = PROHIBITED_CATEGORIES[purpose.category]
        raise PolicyDeniedError(reason, rule_id, "built-in")
    if not purpose.name or len(purpose.name) > 128:
        raise InvalidInputError("purpose name must be 1-128 characters")
    if not purpose.data_subjects.strip():
        raise InvalidInputError("a purpose must say who its data subjects are")
    if not 1 <= purpose.retention_days <= MAX_RETENTION_DAYS:
        raise InvalidInputError(f"retention must be 1..{MAX_RETENTION_DAYS} days (3 years, as BIPA requires)")
    if purpose.max_collection_subjects < 1:
        raise InvalidInputError("max_collection_subjects must be at least 1")
