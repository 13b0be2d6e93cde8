"""Audit reports end to end on synthetic embeddings: contents, JSON round trip, Markdown, HTML, the gate."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import shared

from regard.errors import InvalidInputError
from regard.evaluation.manifest import read_manifest
from regard.fairness import (
    DEFAULT_POLICY,
    AuditConfig,
    AuditReport,
    DatasetInfo,
    FairnessPolicy,
    LabelProvenance,
    PairConfig,
    audit_embeddings,
    audit_score_file,
    evaluate_gate,
    load_report,
)
from regard.fairness.evaluate import ScoredPairs
from regard.fairness.runner import identity_groups
from regard.fairness.scorefile import read_score_file, write_score_file
from regard.fairness.synthetic import synthetic_set

SYNTHETIC = LabelProvenance("assigned-by-people", "the test's generator", "synthetic groups")


@pytest.fixture(scope="module")
def report() -> AuditReport:
    # "b" people look more alike than "a" people (higher impostor scores: higher FMR at one threshold);
    # "tiny" has 6 identities: flagged, not hidden.
    data = synthetic_set(
        {"a": 400, "b": 400, "tiny": 6},
        {"a": 0.03, "b": 0.12, "tiny": 0.03},
        images_per_identity=(1, 4),
        noise=1.1,  # genuine cosine about 1 / (1 + 1.1^2) = 0.45: some false non-matches at 0.33
        seed=2,
    )
    groups = list(data.groups)
    groups[0] = ""  # one unlabelled image: left out and counted
    found = np.ones(len(groups), dtype=bool)
    found[1] = False  # one image without a face
    config = AuditConfig(
        target_fmr=1e-3, pairs=PairConfig(max_within_impostors=50_000), bootstrap_replicates=200, fsn_clusters=4
    )
    return audit_embeddings(
        data.vectors,
        data.identities,
        groups,
        system="synthetic-model",
        system_version="1",
        threshold=0.33,
        found=found,
        dataset=DatasetInfo(name="synthetic", labels=SYNTHETIC, group_column="group", description="synthetic set"),
        config=config,
        caveats=["A caveat from the caller."],
    )


def test_report_has_per_group_rates_intervals_sizes_and_flags(report: AuditReport) -> None:
    assert [g.group for g in report.groups] == ["a", "b", "tiny"]
    a, b, tiny = report.groups
    assert b.fmr is not None and a.fmr is not None and b.fmr > 2 * a.fmr
    for g in (a, b):
        assert g.fmr_ci is not None and g.fmr_ci[0] <= g.fmr <= g.fmr_ci[1]
        assert g.fnmr_ci is not None and g.fnmr is not None and g.fnmr_ci[0] <= g.fnmr <= g.fnmr_ci[1]
        assert g.fnmr > 0 and g.impostor_pairs == 50_000
        assert not g.flagged and g.threshold_at_target_fmr is not None
    assert tiny.flagged and any("identities" in r for r in tiny.flag_reasons) and report.flags
    assert report.dataset.excluded_unlabelled == 1 and report.dataset.images_without_face == 1
    assert a.images_without_face == 1 and b.identities == 400 and a.identities in (399, 400)
    assert report.differentials.groups == ["a", "b", "tiny"]
    assert report.differentials_adequate.groups == ["a", "b"]
    assert report.differentials_adequate.fmr_max_min == pytest.approx(b.fmr / a.fmr)
    assert len(report.cross_groups) == 3 and len(report.det) == 3 and len(report.histograms) == 3
    assert sum(report.histograms[0].impostor) == a.impostor_pairs
    assert report.caveats[-1] == "A caveat from the caller."
    assert any("never infers" in c for c in report.caveats)


def test_fsn_comparison_keeps_the_pooled_fmr_over_several_seeds(report: AuditReport) -> None:
    mit = report.mitigation
    assert mit is not None and mit.clusters == 4 and [r.seed for r in mit.runs] == [0, 1, 2, 3, 4]
    before = mit.differentials_before.fmr_max_min
    for run in mit.runs:
        assert run.pooled_fmr_after == pytest.approx(mit.pooled_fmr_before)
        after = run.differentials_after.fmr_max_min
        assert before is not None and after is not None and after < before
    # Recommended only when no run widened any watched differential; the verdict says why not otherwise.
    widened = any(
        (getattr(r.differentials_after, attr) or 0) > (getattr(mit.differentials_before, attr) or 0) * (1 + 1e-9)
        for r in mit.runs
        for attr in ("fmr_max_min", "fnmr_max_min", "fmr_max_geomean", "fnmr_max_geomean")
    )
    assert mit.recommended is not widened
    assert mit.verdict.startswith("On this data it widens") is widened
    assert ("Not recommended" in report.to_markdown()) is widened


def test_json_round_trip(report: AuditReport, tmp_path: Path) -> None:
    again = AuditReport.from_json(report.to_json())
    assert again == report
    assert isinstance(again.groups[0].fmr_ci, tuple) and again.mitigation is not None
    written = report.write(tmp_path / "out")
    assert sorted(p.name for p in written) == ["report.html", "report.json", "report.md"]
    with pytest.raises(InvalidInputError):
        AuditReport.from_json('{"schema": "something else"}')
    with pytest.raises(InvalidInputError):
        AuditReport.from_json("not json")


def test_markdown_and_html(report: AuditReport) -> None:
    md = report.to_markdown()
    assert "| group |" in md and "## Caveats" in md and "tiny *" in md and "FDR" in md
    page = report.to_html()
    assert page.startswith("<!doctype html>") and page.count("<svg") >= 5
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert "http://" not in page and "https://" not in page and "<script" not in page.lower()
    assert "<link" not in page.lower() and "<style>" in page


def test_gate_passes_fails_and_lists_flagged_groups(report: AuditReport) -> None:
    strict = evaluate_gate(report, DEFAULT_POLICY)
    assert not strict.passed and strict.excluded_groups == ["tiny"]
    fmr_rule = next(r for r in strict.rules if r.id == "fmr_ratio")
    assert not fmr_rule.passed and fmr_rule.measured == report.differentials_adequate.fmr_max_min
    lenient = FairnessPolicy(max_fmr_ratio=100, max_fnmr_ratio=100, max_group_fmr=0.5)
    assert evaluate_gate(report, lenient).passed
    too_few = evaluate_gate(report, FairnessPolicy(max_flagged_groups=0, max_fmr_ratio=None, max_fnmr_ratio=None))
    assert not too_few.passed and next(r for r in too_few.rules if r.id == "flagged_groups").note == "tiny"
    upper = evaluate_gate(report, FairnessPolicy(max_group_fmr=1e-4, use_upper_bound=True))
    worst = max((g for g in report.groups if not g.flagged), key=lambda g: g.fmr_ci[1] if g.fmr_ci else 0.0)
    assert worst.fmr_ci is not None and upper.rules[0].measured == worst.fmr_ci[1]


def test_omitted_limits_are_not_checked_and_off_switches_one_off(report: AuditReport, tmp_path: Path) -> None:
    # Only what the file states is checked: a file with one limit gives one rule, whatever the defaults are.
    toml = tmp_path / "policy.toml"
    toml.write_text("max_fnmr_ratio = 1000.0\n")
    result = evaluate_gate(report, FairnessPolicy.load(toml))
    assert [r.id for r in result.rules] == ["fnmr_ratio"] and result.passed and result.switched_off == []
    # "off" (TOML has no null) or null (JSON) switches a limit off explicitly; the result lists it.
    toml.write_text('max_fmr_ratio = "off"\nmax_group_fmr = "OFF"\nmax_fnmr_ratio = 1000.0\n')
    result = evaluate_gate(report, FairnessPolicy.load(toml))
    assert [r.id for r in result.rules] == ["fnmr_ratio"] and result.switched_off == ["max_fmr_ratio", "max_group_fmr"]
    js = tmp_path / "policy.json"
    js.write_text(json.dumps({"max_fmr_ratio": None}))
    result = evaluate_gate(report, FairnessPolicy.load(js))
    assert result.rules == [] and result.passed and result.switched_off == ["max_fmr_ratio"]
    # No policy at all: the built-in limits, which this report fails.
    assert {r.id for r in evaluate_gate(report, DEFAULT_POLICY).rules} == {
        "fmr_ratio",
        "fnmr_ratio",
        "group_fmr_vs_target",
    }
    assert FairnessPolicy() == FairnessPolicy(max_fmr_ratio=None, max_fnmr_ratio=None, max_group_fmr=None)


def test_gate_fails_closed_without_two_adequate_groups(report: AuditReport) -> None:
    alone = AuditReport.from_json(report.to_json())
    alone.groups[1].flagged = True
    alone.differentials_adequate = type(report.differentials_adequate)(groups=["a"])
    result = evaluate_gate(alone, FairnessPolicy(max_fmr_ratio=2.0, max_fnmr_ratio=None, max_group_fmr=None))
    assert not result.passed and result.rules[0].measured is None and "cannot be measured" in result.rules[0].note


def test_policy_files(tmp_path: Path) -> None:
    toml = tmp_path / "policy.toml"
    toml.write_text("max_fmr_ratio = 3.0\nmax_group_fmr = 1e-3\nmin_fdr = 0.99\n")
    policy = FairnessPolicy.load(toml)
    assert policy.max_fmr_ratio == 3.0 and policy.min_fdr == 0.99
    assert policy.max_fnmr_ratio is None and policy.switched_off == ()  # left out: not checked
    js = tmp_path / "policy.json"
    js.write_text(json.dumps({"max_fnmr_ratio": None, "max_garbe": 0.2}))
    assert FairnessPolicy.load(js).max_fnmr_ratio is None and FairnessPolicy.load(js).switched_off == (
        "max_fnmr_ratio",
    )
    for bad in ("max_fmr_ratios = 2\n", 'max_fmr_ratio = "two"\n', "max_fmr_ratio = -1\n", "not toml ="):
        toml.write_text(bad)
        with pytest.raises(InvalidInputError):
            FairnessPolicy.load(toml)


def test_score_file_round_trip_and_audit(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 4000
    genuine = rng.random(n) < 0.2
    group = rng.integers(0, 2, n)
    ida = rng.integers(0, 100, n) + 100 * group
    idb = np.where(genuine, ida, (ida + 1 + rng.integers(0, 98, n)) % 100 + 100 * group)
    scores = np.where(genuine, rng.normal(0.7, 0.1, n), rng.normal(0.1 + 0.05 * group, 0.1, n))
    scored = ScoredPairs(scores, genuine, group, group, ("x", "y"), ida, idb)
    path = tmp_path / "scores.csv"
    write_score_file(path, scored, [f"p{i}" for i in range(200)])
    parsed = read_score_file(path)
    np.testing.assert_array_equal(parsed.scored.scores, scores)
    np.testing.assert_array_equal(parsed.scored.genuine, genuine)
    dataset = DatasetInfo(name="scores.csv", labels=SYNTHETIC)
    report = audit_score_file(path, dataset=dataset, config=AuditConfig(target_fmr=1e-2, bootstrap_replicates=100))
    assert report.threshold_source.startswith("picked at FMR") and report.groups[1].fmr is not None
    assert report.groups[0].identities == 100 and report.groups[0].images is None
    assert report.pooled_fmr is not None and report.pooled_fmr <= 1e-2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("score,genuine,group_a\n0.1,1,x\n", "missing column"),
        ("score,genuine,group_a,group_b\nabc,1,x,x\n", ":2: score"),
        ("score,genuine,group_a,group_b\n0.1,maybe,x,x\n", "genuine must be"),
        ("score,genuine,group_a,group_b\n0.1,1,x,y\n", "two group labels"),
        ("score,genuine,group_a,group_b,identity_a,identity_b\n0.1,1,x,x,p,q\n", "identity_a equals"),
        ("score,genuine,group_a,group_b,identity_a\n0.1,1,x,x,p\n", "both identity_a"),
        ("score,genuine,group_a,group_b\n0.1,1,,\n", "no labelled rows"),
    ],
)
def test_score_file_errors_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InvalidInputError, match=message):
        read_score_file(path)


def test_manifest_paths_stay_inside_the_root_and_labels_are_per_identity(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,identity,grp\nx/1.jpg,x,a\n../escape.jpg,y,b\n")
    with pytest.raises(InvalidInputError, match="inside"):
        read_manifest(manifest, tmp_path, "grp")
    with pytest.raises(InvalidInputError, match="no column"):
        read_manifest(manifest, tmp_path, "gender")
    assert identity_groups(["x", "x", "y"], ["a", "", "b"]) == {"x": "a", "y": "b"}
    with pytest.raises(InvalidInputError, match="different group labels"):
        identity_groups(["x", "x"], ["a", "b"])


@pytest.mark.shared
def test_lfw_manifest_gives_one_group_per_identity() -> None:
    root = shared("lfw")
    with (root / "manifest.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    for column in ("identity_gender", "identity_race_proxy"):
        groups = identity_groups([r["identity"] for r in rows], [r[column] for r in rows])
        assert len(set(groups.values())) >= 2
    manifest = read_manifest(root / "manifest.csv", root, "identity_gender")
    assert len(manifest.paths) == len(rows) and all(p.is_relative_to(root.resolve()) for p in manifest.paths[:100])


def test_the_group_fmr_limit_can_follow_the_operating_point() -> None:
    """``max_group_fmr_factor`` scales with the audited target FMR: the default profile's card is at 1e-3."""
    card = load_report(Path(__file__).resolve().parents[1] / "docs" / "fairness" / "accurate_gender.json")
    assert card.target_fmr == 1e-3
    strict = evaluate_gate(card, FairnessPolicy(max_group_fmr_factor=2.0))
    rule = next(r for r in strict.rules if r.id == "group_fmr_vs_target")
    assert rule.limit == pytest.approx(2e-3) and rule.measured is not None and rule.measured > 2e-3
    assert not strict.passed and "female" in rule.note
    assert evaluate_gate(card, FairnessPolicy(max_group_fmr_factor=5.0)).passed
