"""The ``regard`` command: outputs, exit codes, folder enrollment, and docs coverage."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import typer
from conftest import encode
from typer.main import get_command
from typer.testing import CliRunner

from regard.cli.app import app

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture
def cli(tmp_path: Path, model_cache: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REGARD_MODEL_CACHE_DIR", str(model_cache))
    monkeypatch.setenv("REGARD_ONNX_THREADS", "1")
    monkeypatch.setenv("COLUMNS", "250")
    runner = CliRunner()

    def run(*args: str) -> typer.testing.Result:  # type: ignore[name-defined]
        return runner.invoke(app, list(args), catch_exceptions=False)

    declared = run(
        "purpose",
        "declare",
        "unspecified",
        "--category",
        "photo-organisation",
        "--legal-basis",
        "legitimate-interests",
        "--data-subjects",
        "people in test photos",
        "--retention-days",
        "30",
        "--max-subjects",
        "1000",
    )
    assert declared.exit_code == 0, declared.output
    return run


@pytest.fixture
def photos(tmp_path: Path, astronaut: np.ndarray, cameraman: np.ndarray, cat: np.ndarray) -> Path:
    root = tmp_path / "photos"
    (root / "eileen").mkdir(parents=True)
    (root / "kitty").mkdir()
    (root / "eileen" / "1.jpg").write_bytes(encode(astronaut))
    (root / "eileen" / "2.png").write_bytes(encode(np.ascontiguousarray(astronaut[:, ::-1]), "PNG"))
    (root / "eileen" / "broken.jpg").write_bytes(encode(astronaut)[:3000])
    (root / "kitty" / "cat.jpg").write_bytes(encode(cat))
    (root / "cameraman.jpg").write_bytes(encode(cameraman))
    (root / "notes.txt.jpg").write_bytes(b"just text")
    return root


def test_detect_json_and_annotation(cli, photos: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "annotated.png"
    result = cli("detect", str(photos / "eileen" / "1.jpg"), "--json", "--annotate", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["faces"]) == 1 and len(data["faces"][0]["landmarks"]) == 5
    assert data["faces"][0]["quality"]["level"] in ("high", "medium")
    assert out.stat().st_size > 1000
    table = cli("detect", str(photos / "cameraman.jpg"))
    assert table.exit_code == 0 and "EXTREME_POSE" in table.stdout


def test_bad_files_give_a_clear_error_and_exit_code(cli, photos: Path) -> None:  # type: ignore[no-untyped-def]
    broken = cli("detect", str(photos / "eileen" / "broken.jpg"))
    assert broken.exit_code == 3 and "corrupt or truncated" in broken.stderr and "Traceback" not in broken.output
    text = cli("detect", str(photos / "notes.txt.jpg"))
    assert text.exit_code == 3 and "not a supported image" in text.stderr
    missing = cli("detect", str(photos / "nope.jpg"))
    assert missing.exit_code == 3


def test_compare_exit_codes(cli, photos: Path) -> None:  # type: ignore[no-untyped-def]
    same = cli("compare", str(photos / "eileen" / "1.jpg"), str(photos / "eileen" / "2.png"), "--json")
    assert same.exit_code == 0 and json.loads(same.stdout)["pairs"][0]["decision"]["match"] is True
    different = cli("compare", str(photos / "eileen" / "1.jpg"), str(photos / "cameraman.jpg"))
    assert different.exit_code == 10
    no_face = cli("compare", str(photos / "eileen" / "1.jpg"), str(photos / "kitty" / "cat.jpg"))
    assert no_face.exit_code == 4 and "no face" in no_face.stderr


def test_collection_enroll_search_and_delete(cli, photos: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("collection", "create", "people", "--description", "test").exit_code == 0
    assert cli("collection", "create", "people").exit_code == 6
    enrolled = cli("enroll", "people", str(photos), "--json")
    assert enrolled.exit_code == 0, enrolled.output
    report = json.loads(enrolled.stdout)
    assert report["indexed"] == 2 and report["subjects"] == ["eileen"]
    skipped = {Path(s["image"]).name: s["reason"] for s in report["skipped"]}
    assert "broken.jpg" in skipped and skipped["cat.jpg"] == "no face found"
    single = cli("enroll", "people", str(photos / "cameraman.jpg"), "--subject", "cam")
    assert single.exit_code == 4 and "EXTREME_POSE" in single.stdout
    assert cli("enroll", "people", str(photos / "cameraman.jpg")).exit_code == 2

    listed = json.loads(cli("collection", "list", "--json").stdout)
    assert listed["total"] == 1 and listed["items"][0]["face_count"] == 2
    assert "people" in cli("collection", "describe", "people").stdout

    hit = cli("search", "people", str(photos / "eileen" / "2.png"), "--json")
    assert hit.exit_code == 0 and json.loads(hit.stdout)["results"][0]["matches"][0]["subject"] == "eileen"
    assert cli("search", "people", str(photos / "cameraman.jpg")).exit_code == 10
    feed = cli("search", "people", str(photos / "eileen" / "2.png"), "--source", "camera-feed")
    assert feed.exit_code == 14 and "PROHIBIT-UNKNOWN-SOURCE" in feed.stderr
    assert cli("search", "people").exit_code == 2

    faces = json.loads(cli("faces", "list", "people", "--json").stdout)["items"]
    by_face = cli("search", "people", "--face-id", faces[0]["face_id"], "--json")
    assert json.loads(by_face.stdout)["results"][0]["matches"][0]["face_id"] == faces[1]["face_id"]
    assert cli("faces", "delete", "people", faces[0]["face_id"]).exit_code == 0
    assert cli("faces", "delete", "people", faces[0]["face_id"]).exit_code == 5
    subjects = json.loads(cli("subjects", "list", "people", "--json").stdout)
    assert subjects["items"][0]["face_count"] == 1
    assert cli("subjects", "delete", "people", "eileen").exit_code == 0
    assert cli("collection", "delete", "people", "--yes").exit_code == 0
    assert cli("collection", "describe", "people").exit_code == 5


def test_models_list(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("models", "list", "--json")
    models = {m["id"]: m for m in json.loads(result.stdout)}
    assert models["sface"]["installed"] and models["sface"]["thresholds"]["1e-04"] > 0
    assert "Apache-2.0" in models["sface"]["licence"]
    assert models["accurate"]["members"] == [
        {"model_id": "sface", "weight": 0.2804},
        {"model_id": "dlib-resnet", "weight": 0.7196},
    ]
    assert "profile: 0.2804 sface + 0.7196 dlib-resnet, flip" in cli("models", "list").stdout


def test_demo_walks_through_the_accountable_flow(cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Without the evaluation data, with only what pip installs; twice, as a curious user would."""
    monkeypatch.setattr("regard.cli.demo.SHARED_CELEBA", tmp_path / "absent")
    for _ in range(2):
        result = cli("demo")
        assert result.exit_code == 0, result.output
        out = result.stdout
        for step in (
            "declared purpose",
            "consent recorded",
            "enrolled",
            "search",
            "refused",
            "PROHIBIT-EMOTION-RECOGNITION",
            "held for review",
            "released",
            "erasure receipt",
            "ledger intact",
            "FAIRNESS-GATE",
        ):
            assert step in out, f"{step!r} missing from the demo's narration"
        confirmations = re.findall(r"reviewer \d, (.+?) \(key (\w+)\), confirms: case (\w+)", out)
        assert len(confirmations) == 2 and len({actor for actor, _, _ in confirmations}) == 2
        assert [status == "released" for _, _, status in confirmations] == [False, True]
        assert "Traceback" not in result.output


def test_demo_on_a_photo_folder(cli, photos: Path) -> None:  # type: ignore[no-untyped-def]
    tree = photos.parent / "tree"
    (tree / "eileen").mkdir(parents=True)
    for name in ("1.jpg", "2.png"):
        (tree / "eileen" / name).write_bytes((photos / "eileen" / name).read_bytes())
    result = cli("demo", str(tree), "--per-person", "1")
    assert result.exit_code == 0, result.output
    assert "rank-1" in result.stdout


def _commands(group, prefix: str = "") -> set[str]:  # type: ignore[no-untyped-def]
    names = set()
    for name, command in group.commands.items():
        full = f"{prefix} {name}".strip()
        if hasattr(command, "commands"):
            names |= _commands(command, full)
        else:
            names.add(full)
    return names


def test_every_command_is_documented() -> None:
    doc = (DOCS / "cli.md").read_text()
    documented = set(re.findall(r"^### `regard ([a-z -]+?)`", doc, re.M))
    assert _commands(get_command(app)) == documented


def test_benchmark_throughput_command(cli, photos: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("benchmark", "throughput", str(photos / "eileen"), "--limit", "2", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["images"] == 2 and report["faces"] == 2 and report["images_per_s"] > 0


def test_a_fresh_install_says_how_to_declare_and_pass_a_purpose(tmp_path: Path, model_cache: Path) -> None:
    env = {"REGARD_DATA_DIR": str(tmp_path / "data"), "REGARD_MODEL_CACHE_DIR": str(model_cache)}
    photo = tmp_path / "photo.jpg"
    from skimage import data

    photo.write_bytes(encode(data.astronaut()))
    result = CliRunner().invoke(app, ["detect", str(photo)], env=env)
    assert result.exit_code == 14 and "Traceback" not in result.output
    assert "regard purpose declare" in result.stderr
    assert "--purpose" in result.stderr and "REGARD_PURPOSE" in result.stderr


def test_a_data_dir_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("oops")
    for args in (["collection", "list"], ["tenant", "list"], ["ledger", "verify"], ["demo"]):
        result = CliRunner().invoke(app, args, env={"REGARD_DATA_DIR": str(not_a_folder)})
        assert result.exit_code == 9, (args, result.output)
        assert "Traceback" not in result.output
        assert "not a folder" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_outputs_to_missing_folders_and_unknown_extensions_are_one_line(cli, photos: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    photo = str(photos / "eileen" / "1.jpg")
    missing = tmp_path / "no" / "such"
    for args in (
        ["detect", photo, "--annotate", str(missing / "out.png")],
        ["detect", photo, "--annotate", str(tmp_path / "out.xyz")],
        ["ledger", "export", str(missing / "ledger.jsonl")],
        ["report", "--out", str(missing / "report.html")],
    ):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("error (invalid_input)") and len(result.stderr.strip().splitlines()) == 1


def test_a_corrupt_single_file_enrollment_is_an_invalid_image(cli, photos: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("collection", "create", "people").exit_code == 0
    broken = cli("enroll", "people", str(photos / "eileen" / "broken.jpg"), "--subject", "eileen")
    assert broken.exit_code == 3 and "corrupt or truncated" in broken.stderr


def test_the_packaged_fairness_cards_are_the_published_ones() -> None:
    """`regard demo` gates on the cards installed with the package; they must be the ones docs/fairness publishes."""
    from importlib import resources

    cards = [c for c in resources.files("regard.fairness").joinpath("cards").iterdir() if c.name.endswith(".json")]
    assert {c.name for c in cards} >= {"accurate_gender.json", "fast_gender.json", "sface_gender.json"}
    for card in cards:
        assert card.read_bytes() == (DOCS / "fairness" / card.name).read_bytes(), card.name


def test_bad_settings_and_intervals_are_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    runner = CliRunner()
    cases = [
        (["collection", "list"], {"REGARD_MAX_FACES": "many"}, "max_faces"),
        (["purge", "--every", "0"], {}, "interval"),
        (["purge", "--every", "-1"], {}, "interval"),
    ]
    for args, extra, expected in cases:
        result = runner.invoke(app, args, env={"REGARD_DATA_DIR": str(data), **extra})
        assert result.exit_code == 2 and expected in result.stderr, (args, result.output)
        assert len(result.stderr.strip().splitlines()) == 1
    (data / "regard.toml").write_text("max_faces = 3\n[broken")
    broken = runner.invoke(app, ["collection", "list"], env={"REGARD_DATA_DIR": str(data)})
    assert broken.exit_code == 2 and "not valid TOML" in broken.stderr and "Traceback" not in broken.output


def test_index_check_and_batch_enroll_commands(cli, photos: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("collection", "create", "staff").exit_code == 0
    result = cli("batch", "enroll", "staff", str(photos), "--engine", "processes", "--workers", "1", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["done"] == 2 and {Path(p).name for p, _ in report["skipped"]} == {"broken.jpg", "cat.jpg"}
    checked = cli("index", "check", "--json")
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout)[0]["ok"] and json.loads(checked.stdout)[0]["store_count"] == 2
