"""The audit report as plain data, and its renderers: JSON (round-trips), Markdown, self-contained HTML."""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from regard.errors import InvalidInputError
from regard.fairness.labels import LabelProvenance
from regard.fairness.metrics import AdequacyRule, Differentials

SCHEMA = "regard.fairness.audit/2"
OLD_SCHEMAS = {"regard.fairness.audit/1"}

T = TypeVar("T")


@dataclass
class DatasetInfo:
    """What was measured: the data, who labelled the groups and how, how many items were left out and why."""

    name: str
    labels: LabelProvenance
    description: str = ""
    group_column: str = ""
    images: int | None = None
    identities: int | None = None
    excluded_unlabelled: int = 0  # images (or score rows) without a group label
    images_without_face: int = 0


@dataclass
class GroupStats:
    """One demographic group at the operating threshold, with sample sizes and 95% intervals."""

    group: str
    identities: int | None
    images: int | None
    images_without_face: int
    genuine_identities: int | None
    genuine_pairs: int
    impostor_pairs: int
    false_non_matches: int
    false_matches: int
    fmr: float | None
    fmr_ci: tuple[float, float] | None
    fnmr: float | None
    fnmr_ci: tuple[float, float] | None
    threshold_at_target_fmr: float | None  # what this group alone would need for the target FMR
    fnmr_at_own_threshold: float | None
    largest_identity_genuine_share: float | None  # share of genuine pairs from the most-photographed person
    flagged: bool = False
    flag_reasons: list[str] = field(default_factory=list)


@dataclass
class CrossGroupStats:
    """Impostor pairs with one person from each of two groups."""

    group_a: str
    group_b: str
    impostor_pairs: int
    false_matches: int
    fmr: float | None
    fmr_ci: tuple[float, float] | None


@dataclass
class DetCurve:
    group: str
    fmr: list[float]
    fnmr: list[float]
    thresholds: list[float]


@dataclass
class ScoreHistogram:
    group: str
    edges: list[float]
    genuine: list[int]
    impostor: list[int]


@dataclass
class GroupRates:
    group: str
    fmr: float | None
    fnmr: float | None
    false_matches: int
    false_non_matches: int


@dataclass
class MitigationRun:
    """One fit of a score normalisation (one seed), measured at the threshold giving the same pooled FMR."""

    seed: int
    fallback_clusters: int  # clusters too small for their own threshold: they keep the global one
    threshold_after: float
    pooled_fmr_after: float | None
    pooled_fnmr_after: float | None
    after: list[GroupRates]
    differentials_after: Differentials


@dataclass
class Mitigation:
    """Rates before a score normalisation and after it, fitted with several seeds, and whether to consider it.

    ``recommended`` is true only when no run widened any watched differential (``verdict`` says which did).
    """

    method: str
    clusters: int
    fit_fmr: float
    threshold_before: float
    pooled_fmr_before: float | None
    pooled_fnmr_before: float | None
    before: list[GroupRates]
    differentials_before: Differentials
    runs: list[MitigationRun]
    recommended: bool
    verdict: str
    notes: list[str] = field(default_factory=list)


@dataclass
class Provenance:
    """How the report came to be; signed with the rest of the report when Regard or an auditor signs it.

    ``route``: ``images`` (Regard detected and embedded the images itself), ``score-file`` (scores supplied by
    the caller: Regard cannot vouch for them) or ``embeddings`` (vectors supplied by a library caller).
    ``evaluation_set_sha256`` digests the manifest rows and every image's bytes (images route);
    ``inputs_sha256`` the score file's bytes (score-file route).
    """

    route: str
    producer: str
    face_choice: str | None = None  # which face of each image was embedded: largest, centre
    detector: str | None = None
    evaluation_set_sha256: str | None = None
    manifest_sha256: str | None = None
    inputs_sha256: str | None = None
    tenant: str | None = None


@dataclass
class ReportSignature:
    """An Ed25519 signature over the rest of the report (see :mod:`regard.fairness.signing`)."""

    algorithm: str
    key_id: str
    public_key: str  # hex, raw 32 bytes
    value: str  # hex
    signed_by: str  # what the signer calls itself; trust comes from the key, never from this name
    signed_at: str


@dataclass
class AuditReport:
    """A demographic audit of one system at one threshold on one labelled dataset."""

    system: str  # model id, or the name of the audited third-party system
    system_version: str
    dataset: DatasetInfo
    threshold: float
    threshold_source: str
    target_fmr: float
    pooled_fmr: float | None
    pooled_fnmr: float | None
    adequacy: AdequacyRule
    bootstrap_replicates: int
    ci_level: float
    seed: int
    groups: list[GroupStats]
    cross_groups: list[CrossGroupStats]
    differentials: Differentials  # over every group with pairs
    differentials_adequate: Differentials  # over groups that are not flagged
    flags: list[str]
    caveats: list[str]
    det: list[DetCurve]
    histograms: list[ScoreHistogram]
    provenance: Provenance
    mitigation: Mitigation | None = None
    created: str = ""
    schema: str = SCHEMA
    signature: ReportSignature | None = None

    def group(self, name: str) -> GroupStats:
        """The stats of group ``name``."""
        for stats in self.groups:
            if stats.group == name:
                return stats
        raise InvalidInputError(f"no group {name!r} in this report")

    def to_json(self) -> str:
        """The report as JSON; non-finite numbers become null.  :meth:`from_json` reads it back unchanged."""
        return json.dumps(_finite(dataclasses.asdict(self)), indent=2, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> AuditReport:
        """Read a report written by :meth:`to_json`."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"not a JSON audit report: {exc}") from None
        if isinstance(data, dict) and data.get("schema") in OLD_SCHEMAS:
            raise InvalidInputError(
                f"this report uses the old schema {data['schema']!r}, without label provenance or face choice: "
                "run the audit again"
            )
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise InvalidInputError(f"not an audit report (expected schema {SCHEMA!r})")
        try:
            return typing.cast(AuditReport, _build(cls, data))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"malformed audit report: {exc}") from None

    def to_markdown(self) -> str:
        from regard.fairness.markdown import render_markdown

        return render_markdown(self)

    def to_html(self) -> str:
        from regard.fairness.page import render_html

        return render_html(self)

    def write(self, folder: Path, stem: str = "report") -> list[Path]:
        """Write ``<stem>.json``, ``<stem>.md`` and ``<stem>.html`` into ``folder``; returns the paths."""
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for suffix, text in (("json", self.to_json()), ("md", self.to_markdown()), ("html", self.to_html())):
            path = folder / f"{stem}.{suffix}"
            path.write_text(text, encoding="utf-8")
            written.append(path)
        return written


def parse_report(data: bytes | str) -> AuditReport:
    """A report.json's content."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    except UnicodeDecodeError:
        raise InvalidInputError("a report is UTF-8 JSON") from None
    return AuditReport.from_json(text)


def load_report(path: Path) -> AuditReport:
    """Read a report.json."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"{path}: {exc.strerror}") from None
    return AuditReport.from_json(text)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _build(tp: Any, value: Any) -> Any:
    """Rebuild a value of type ``tp`` (dataclasses, lists, tuples, optionals) from parsed JSON."""
    if value is None:
        return None
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return tp(**{f.name: _build(hints[f.name], value[f.name]) for f in dataclasses.fields(tp) if f.name in value})
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return _build(next(a for a in args if a is not type(None)), value)
    if origin is list:
        return [_build(args[0], v) for v in value]
    if origin is tuple:
        return tuple(_build(a, v) for a, v in zip(args, value, strict=True))
    if tp is float:
        return float(value)
    return value
