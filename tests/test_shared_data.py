"""Extended checks on the evaluation data in ../shared/data (skipped where it is absent)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import LOCAL, shared
from test_models import iou

from regard import Regard
from regard.evaluation.imagesets import pick_face


def solvay_boxes() -> list[tuple[float, ...]]:
    with shared("fixtures/solvay_conference_1927_faces.csv").open() as handle:
        return [tuple(float(v) for v in row.values()) for row in csv.DictReader(handle)]


@pytest.mark.parametrize(("detector", "min_recall"), [("yunet", 26), ("centerface", 26)])
def test_solvay_group_photo(service: Regard, detector: str, min_recall: int) -> None:
    boxes = solvay_boxes()
    faces = service.detect(shared("fixtures/solvay_conference_1927.png"), LOCAL, detector=detector).faces
    found = sum(any(iou(b, f.box) > 0.3 for f in faces) for b in boxes)
    false = sum(not any(iou(b, f.box) > 0.3 for b in boxes) for f in faces)
    assert found >= min_recall, f"{detector} found {found} of {len(boxes)}"
    assert false <= 3


def celeba_people(count: int) -> dict[str, list[Path]]:
    root = shared("celeba_wild/images")
    folders = sorted(d for d in root.iterdir() if d.is_dir())[:count]
    return {d.name: sorted(d.iterdir()) for d in folders}


def test_celeba_enroll_and_search(service: Regard) -> None:
    people = celeba_people(20)
    service.create_collection("celeba", LOCAL)
    for person, images in people.items():
        for image in images[:3]:
            service.enroll("celeba", person, [image], LOCAL)
    hits = total = 0
    for person, images in people.items():
        for probe in images[8:]:
            result = service.search("celeba", probe, LOCAL, top_k=1, fmr=1e-3)
            matches = result.results[0].matches
            hits += bool(matches) and matches[0].subject == person
            total += 1
    assert hits / total >= 0.8, f"rank-1 {hits}/{total}"


def test_lfw_fold_accuracy(service: Regard) -> None:
    lines = shared("lfw/pairs.txt").read_text().split("\n")[1:601]  # fold 1
    root = shared("lfw/images")
    cache: dict[str, np.ndarray] = {}

    def template(name: str, number: str) -> np.ndarray:
        path = root / name / f"{name}_{int(number):04d}.jpg"
        if str(path) not in cache:
            image = service._parts.engine.decode(path)
            faces = service._parts.engine.find_faces(image)
            centre = pick_face(faces, (image.info.height, image.info.width), "center")
            aligned = service._parts.engine.align(image, [centre])
            cache[str(path)] = service._parts.engine.embed(image, aligned, "sface")[0].embedding
        return cache[str(path)]

    correct = 0
    threshold = 0.339  # LFW's best-accuracy threshold from benchmarks/results/accuracy_sface.json
    for line in lines:
        parts = line.split()
        a, b = (
            (template(parts[0], parts[1]), template(parts[0], parts[2]))
            if len(parts) == 3
            else (template(parts[0], parts[1]), template(parts[2], parts[3]))
        )
        correct += (float(a @ b) >= threshold) == (len(parts) == 3)
    assert correct / len(lines) >= 0.98


def test_benchmark_verify_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from regard.cli.app import app

    people = celeba_people(12)
    for person, images in people.items():
        (tmp_path / person).mkdir()
        for image in images[:5]:
            (tmp_path / person / image.name).symlink_to(image)
    monkeypatch.setenv("REGARD_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(app, ["benchmark", "verify", str(tmp_path), "--json", "--processes", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["genuine"] == 12 * 10 and report["accuracy_mean"] > 0.85
