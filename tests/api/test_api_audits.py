"""Fairness audits over HTTP: an independent tester's score file, stored reports, the gate, outside auditors,
the shipped fairness cards."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
from harness import Api, api, is_problem

from regard.fairness.report import parse_report
from regard.fairness.signing import KeySigner, sign_report

CARDS = resources.files("regard.fairness").joinpath("cards")
FAIRNESS_CARD = Path(__file__).resolve().parents[2] / "docs" / "fairness" / "sface_gender.json"
SFACE_1E4 = 0.4244
LABELS = {"label_source": "assigned-by-people", "labelled_by": "the tester's annotators"}


def score_file() -> bytes:
    """What an independent tester sends: scores and group labels of their own system, no image."""
    rng = np.random.default_rng(1)
    lines = ["score,genuine,group_a,group_b,identity_a,identity_b"]
    for group in ("female", "male"):
        people = [f"{group}{i}" for i in range(40)]
        lines += [f"{rng.uniform(0.5, 0.9):.4f},1,{group},{group},{p},{p}" for p in people for _ in range(2)]
        for _ in range(3000):
            x, y = rng.choice(40, 2, replace=False)
            lines.append(f"{rng.uniform(-0.1, 0.45):.4f},0,{group},{group},{people[x]},{people[y]}")
    return ("\n".join(lines) + "\n").encode()


def test_an_independent_testers_score_file_is_audited_stored_and_unverified(api: Api) -> None:
    form = {**LABELS, "system": "their-system", "threshold": "0.4"}
    made = api.call("POST", "/v1/audits/scores", key="auditor", data=form, files={"scores": ("s.csv", score_file())})
    assert made.status_code == 201, made.text
    audit = made.json()
    assert audit["system"] == "their-system" and audit["verification"]["status"] == "unverified"
    assert audit["label_source"] == "assigned-by-people" and set(audit["groups"]) == {"female", "male"}
    assert audit["ledger_seq"] > 0
    listed = api.call("GET", "/v1/audits", key="auditor").json()
    assert [a["id"] for a in listed["items"]] == [audit["id"]]
    one = f"/v1/audits/{audit['id']}"
    assert api.call("GET", one, key="admin").json() == audit
    document = api.call("GET", f"{one}/document", key="auditor")
    assert document.headers["content-type"].startswith("application/json")
    assert parse_report(document.content).system == "their-system"
    html = api.call("GET", f"{one}/document", key="auditor", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html") and "<script" not in html.text
    gate = api.call("GET", f"{one}/gate", key="auditor").json()
    assert {r["id"] for r in gate["rules"]} and isinstance(gate["passed"], bool)
    # Labels' provenance is a required input.
    missing = api.call("POST", "/v1/audits/scores", key="auditor", files={"scores": ("s.csv", score_file())})
    assert missing.status_code == 422
    bad_source = {**form, "label_source": "guessed"}
    is_problem(
        api.call("POST", "/v1/audits/scores", key="auditor", data=bad_source, files={"scores": ("s.csv", b"x")}),
        422,
        "invalid_input",
    )
    # An operator is no auditor; another tenant never sees the report.
    is_problem(api.call("GET", "/v1/audits", key="operator"), 403, "forbidden")


def test_only_a_trusted_audit_activates_a_model_and_then_on_its_numbers(api: Api) -> None:
    # The attack: a hand-made score file "audited" as sface at its threshold.
    form = {**LABELS, "system": "sface", "threshold": str(SFACE_1E4)}
    made = api.call("POST", "/v1/audits/scores", key="admin", data=form, files={"scores": ("s.csv", score_file())})
    at_card = {"fmr": "0.0001"}  # the operating point the card audits
    refused = api.call(
        "POST", "/v1/models/sface/activation", key="admin", data={"report_id": made.json()["id"], **at_card}
    )
    assert is_problem(refused, 403, "policy_denied")["rule_id"] == "FAIRNESS-GATE"
    assert "unverified" in refused.json()["detail"]
    card = FAIRNESS_CARD.read_bytes()  # the published card, unsigned
    unsigned = api.call(
        "POST", "/v1/models/sface/activation", key="admin", data=at_card, files={"report": ("r.json", card)}
    )
    assert is_problem(unsigned, 403, "policy_denied")["rule_id"] == "FAIRNESS-GATE"
    checked = api.call("POST", "/v1/audits/verification", key="auditor", files={"report": ("r.json", card)}).json()
    assert checked["verification"]["status"] == "unverified"
    # A registered outside auditor signs it: it is judged on its numbers, which fail the default limits.
    lab = KeySigner.generate()
    body = {"name": "lab-1", "public_key": lab.public_key_hex, "description": "university lab"}
    assert api.call("POST", "/v1/auditors", key="admin", json=body).status_code == 201
    signed = sign_report(parse_report(card), lab, "lab-1").to_json().encode()
    checked = api.call("POST", "/v1/audits/verification", key="auditor", files={"report": ("r.json", signed)}).json()
    assert checked["verification"]["status"] == "verified" and checked["signature_key_id"] == lab.key_id
    failed = api.call(
        "POST", "/v1/models/sface/activation", key="admin", data=at_card, files={"report": ("r.json", signed)}
    )
    assert is_problem(failed, 403, "policy_denied")["rule_id"] == "FAIRNESS-GATE"
    assert "fmr_ratio" in failed.json()["detail"]
    lenient = (
        "version: fair-1\nfairness_gate:\n  limits: {max_fmr_ratio: 3.0, max_fnmr_ratio: 12.0, max_group_fmr: 5.0e-4}\n"
    )
    api.call("PUT", "/v1/policy", key="admin", json={"document": lenient})
    passed = api.call(
        "POST", "/v1/models/sface/activation", key="admin", data=at_card, files={"report": ("r.json", signed)}
    )
    assert passed.status_code == 200 and all(rule["passed"] for rule in passed.json()["gate"])
    deployments = api.call("GET", "/v1/deployments", key="admin").json()
    assert deployments["items"][-1]["model"] == "sface" and deployments["items"][-1]["active"]
    # Revoked, the auditor's reports activate nothing more.
    revoked = api.call("DELETE", "/v1/auditors/lab-1", key="admin").json()
    assert revoked["active"] is False
    again = api.call(
        "POST", "/v1/models/sface/activation", key="admin", data=at_card, files={"report": ("r.json", signed)}
    )
    is_problem(again, 403, "policy_denied")
    is_problem(api.call("POST", "/v1/models/sface/activation", key="admin"), 422, "invalid_input")


def test_the_shipped_fairness_cards_are_served_to_readers(api: Api) -> None:
    shipped = {card.name: json.loads(card.read_text()) for card in CARDS.iterdir() if card.name.endswith(".json")}
    listed = api.call("GET", "/v1/fairness/cards", key="auditor")
    assert listed.status_code == 200, listed.text
    cards = listed.json()
    assert cards["total"] == len(shipped) and {c["system"] for c in cards["items"]} >= {"accurate", "fast", "sface"}
    sface = next(c for c in cards["items"] if c["system"] == "sface")
    assert sface["report"] == shipped["sface_gender.json"]  # the document exactly as shipped
    female = sface["report"]["groups"][0]
    assert sface["threshold"] == SFACE_1E4 and sface["groups"][0]["group"] == female["group"]
    assert sface["groups"][0]["fmr"] == female["fmr"] and sface["groups"][0]["fmr_ci"] == female["fmr_ci"]
    assert sface["dataset"]["labels"]["source"] == "assigned-by-people" and sface["caveats"]
    assert sface["differentials_adequate"]["fmr_max_min"] > 1 and len(sface["det"]) == len(sface["groups"])
    assert api.call("GET", "/v1/fairness/cards", key="operator").json() == cards  # the same for every reader
    page = api.call("GET", "/v1/fairness/cards", key="admin", params={"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next"] and page["total"] == cards["total"]
    is_problem(api.call("GET", "/v1/fairness/cards", key="rev1"), 403, "forbidden")
    is_problem(api.call("GET", "/v1/fairness/cards", key=None), 401, "unauthenticated")
