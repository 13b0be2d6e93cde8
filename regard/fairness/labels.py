"""Where the group labels of an audit came from: a required input of every audit, stated in every report.

Regard never infers a demographic attribute from a face; the labels an audit uses come from somewhere else,
and what they mean depends on where.  A self-reported gender and a gender an annotator guessed from a photo
are different things; a race "label" output by a classifier is a proxy whose own errors mix people between
groups.  So an audit takes the labels' provenance as an input, and its report carries it with the caveats
that follow from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from regard.errors import InvalidInputError


class LabelSource(StrEnum):
    """How the group labels were assigned."""

    SELF_REPORTED = "self-reported"  # the people themselves said so (a form, a survey)
    RECORDS = "administrative-records"  # from records about the person (documents, registries)
    PEOPLE = "assigned-by-people"  # annotators judged from the images or names: perceived, not self-identified
    MACHINE_PROXY = "machine-proxy"  # output of a classifier or other model: a proxy, not a label
    UNKNOWN = "unknown"  # nobody can say; the report says so loudly


DESCRIPTIONS = {
    LabelSource.SELF_REPORTED: "self-reported by the people in the images",
    LabelSource.RECORDS: "taken from administrative records about the people",
    LabelSource.PEOPLE: "assigned by people (perceived, not self-identified)",
    LabelSource.MACHINE_PROXY: "MACHINE-DERIVED PROXIES output by a classifier, not human labels",
    LabelSource.UNKNOWN: "of UNKNOWN origin",
}

CAVEATS = {
    LabelSource.SELF_REPORTED: [],
    LabelSource.RECORDS: [
        "The labels come from records: they say what a document states, which may differ from how a person "
        "identifies and from how they appear.",
    ],
    LabelSource.PEOPLE: [
        "The labels were assigned by people who looked at the images or names: perceived attributes, not "
        "self-identification. Annotators disagree and err, most at the boundaries between groups.",
    ],
    LabelSource.MACHINE_PROXY: [
        "The groups are MACHINE-DERIVED PROXIES, not human labels and not self-identification: outputs of a "
        "trained classifier. Errors in these proxies mix people between groups and blur the differences "
        "measured here; the categories are coarse and describe no one's identity. Proxies are used here only to "
        "measure; Regard never infers them.",
        "A classifier that labels some groups less accurately than others biases the per-group rates in ways "
        "this report cannot correct: treat differences between proxy groups as indications, not measurements.",
    ],
    LabelSource.UNKNOWN: [
        "Nobody could say how the group labels were assigned: what a group means, and so what its rates mean, "
        "is unknown. Do not base a deployment decision on this report alone.",
    ],
}


@dataclass
class LabelProvenance:
    """Who assigned the group labels (``assigned_by``) and how (``source``, a :class:`LabelSource` value)."""

    source: str
    assigned_by: str
    notes: str = ""

    def __post_init__(self) -> None:
        known = [s.value for s in LabelSource]
        if self.source not in known:
            raise InvalidInputError(f"label source must be one of {', '.join(known)}; got {self.source!r}")
        if not self.assigned_by.strip():
            raise InvalidInputError("say who assigned the group labels (assigned_by)")

    def describe(self) -> str:
        """One phrase for reports: how and by whom, e.g. ``assigned by people (...), by: LFW annotators``."""
        text = f"{DESCRIPTIONS[LabelSource(self.source)]}; assigned by: {self.assigned_by}"
        return f"{text} ({self.notes})" if self.notes else text

    def caveats(self) -> list[str]:
        return list(CAVEATS[LabelSource(self.source)])
