"""The dashboard in headless Chromium against a real server: login, each role's pages, enrollment, search,
a two-person review, CSRF, the session cookie, keyboard use, and axe on every page (zero violations)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from browsing import Site, accessible, base_url, browser_type_launch_args, library, log_in, site, upload
from conftest import encode
from playwright.sync_api import expect

from regard.dashboard.pages import MEASURES
from regard.governance.review import ReviewCase

COOKIE = "regard_session"


def nav_links(page: Any) -> list[str]:
    return [text.strip() for text in page.get_by_role("navigation", name="Main").get_by_role("link").all_inner_texts()]


def test_login_sessions_and_views_by_role(site: Site, new_context: Any) -> None:
    page = new_context().new_page()
    page.goto(f"{site.url}/dashboard/collections")
    expect(page).to_have_url(re.compile(r"/dashboard/login\?next=%2Fdashboard%2Fcollections"))
    accessible(page, "login")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to main content")

    page.get_by_label("Your personal API key").fill("rgk_000000000000_not-a-real-key")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("unauthenticated")
    accessible(page, "login-refused")

    page.get_by_label("Your personal API key").fill(site.keys["olga"])
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{site.url}/dashboard/collections")
    links = nav_links(page)
    assert "Collections" in links and "Ledger" not in links and "Review queue" not in links

    cookie = next(c for c in page.context.cookies() if c["name"] == COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/dashboard"
    assert not cookie["secure"]  # plain HTTP on loopback; Secure is set when the request came over HTTPS
    assert site.keys["olga"] not in cookie["value"] and site.keys["olga"].split("_", 2)[2] not in cookie["value"]
    assert page.evaluate("document.cookie") == ""  # no script can read it

    page.goto(f"{site.url}/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, olga")
    accessible(page, "home-operator")
    for person, present, absent in (
        ("aude", ["Ledger", "Accountability report", "Fairness", "Consents"], ["Review queue"]),
        ("rita", ["Review queue", "Applications"], ["Collections", "Ledger"]),
        ("ada", ["Collections", "Ledger", "Policy"], ["Review queue"]),
    ):
        other = log_in(new_context, site, person)
        links = nav_links(other)
        assert set(present) <= set(links) and not set(absent) & set(links), (person, links)
        accessible(other, f"home-{person}")

    # Logging out ends the session everywhere: the old cookie, replayed in a fresh browser, opens nothing.
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    replay = new_context()
    replay.add_cookies([cookie])
    stolen = replay.new_page()
    stolen.goto(f"{site.url}/dashboard/")
    expect(stolen).to_have_url(re.compile(r"/dashboard/login"))


def test_a_post_without_the_csrf_token_is_refused(site: Site, new_context: Any) -> None:
    page = log_in(new_context, site, "ada")
    page.goto(f"{site.url}/dashboard/collections")
    form = {"name": "sneaky", "purpose": "photos"}
    refused = page.request.post(f"{site.url}/dashboard/collections", form=form, max_redirects=0)
    assert refused.status == 403 and "csrf_refused" in refused.text()
    forged = page.request.post(
        f"{site.url}/dashboard/collections", form={**form, "csrf_token": "forged"}, max_redirects=0
    )
    assert forged.status == 403
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    accepted = page.request.post(
        f"{site.url}/dashboard/collections", form={**form, "name": "allowed", "csrf_token": token}, max_redirects=0
    )
    assert accepted.status == 303
    page.goto(f"{site.url}/dashboard/collections")
    expect(page.get_by_role("link", name="allowed", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="sneaky", exact=True)).to_have_count(0)


def test_an_operator_enrolls_and_searches(
    site: Site, new_context: Any, grid4: np.ndarray, cat: np.ndarray, astronaut: np.ndarray, cameraman: np.ndarray
) -> None:
    page = log_in(new_context, site, "olga")
    page.goto(f"{site.url}/dashboard/collections")
    accessible(page, "collections")
    page.get_by_label("Name").fill("staff")
    page.get_by_label("Purpose").select_option("photos")
    page.get_by_role("button", name="Create the collection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Collection staff")
    accessible(page, "collection")

    page.get_by_role("link", name="Enroll a subject").click()
    accessible(page, "enroll-form")
    page.get_by_label("Subject id").fill("eileen")
    page.get_by_label("Display name (optional)").fill("Eileen Collins")
    page.get_by_label("Images of the subject").set_input_files(
        [upload("group.jpg", encode(grid4)), upload("cat.jpg", encode(cat))]
    )
    page.get_by_role("button", name="Enroll").click()
    expect(page.get_by_role("heading", name="Enrolled 1 face of eileen")).to_be_focused()
    skipped = page.get_by_role("table", name=re.compile("found but not enrolled"))
    expect(skipped).to_contain_text("EXCEEDS_MAX_FACES")
    expect(skipped).to_contain_text("image #1")
    expect(page.get_by_text("image #2: no face was found.")).to_be_visible()
    expect(page.locator("svg rect.mark-enrolled")).to_have_count(1)
    assert page.locator("svg rect.mark-skipped").count() == 3
    accessible(page, "enroll-result")

    page.get_by_role("link", name="See every face of eileen").click()
    expect(page.get_by_role("img", name=re.compile("Face .* of eileen"))).to_have_count(1)
    accessible(page, "subject")

    page.goto(f"{site.url}/dashboard/collections/staff/search")
    accessible(page, "search-form")
    page.get_by_label("Photo", exact=True).set_input_files(upload("visitor.jpg", encode(astronaut)))
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Match found")).to_be_focused()
    matches = page.get_by_role("table", name=re.compile("Subjects matching face 1"))
    expect(matches).to_contain_text("Eileen Collins")
    expect(matches).to_contain_text("match")
    expect(page.locator("svg rect.mark-match")).to_have_count(1)
    expect(page.get_by_role("img", name=re.compile("face 1: matches Eileen Collins"))).to_be_visible()
    accessible(page, "search-match")

    page.get_by_label("Photo", exact=True).set_input_files(upload("stranger.jpg", encode(cameraman)))
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="No match")).to_be_focused()
    expect(page.locator("svg rect.mark-no-match")).to_have_count(1)
    accessible(page, "search-no-match")

    page.get_by_label("Photo", exact=True).set_input_files(upload("cat.jpg", encode(cat)))
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("no_face")
    accessible(page, "search-no-face")

    page.get_by_label("Photo", exact=True).set_input_files(upload("visitor.jpg", encode(astronaut)))
    page.get_by_label("Purpose").select_option("door")  # staff serves 'photos': the policy refuses, and says why
    page.get_by_role("button", name="Search").click()
    denial = page.get_by_role("alert")
    expect(denial).to_contain_text("collection 'staff' serves purpose 'photos', not 'door'")
    expect(denial).to_contain_text("GOV-PURPOSE-MISMATCH")
    expect(denial).to_contain_text("club-2026-11")
    accessible(page, "search-denied")


def _shown_rate(value: float) -> str:
    """An error rate as the page writes it: 1.2e-04 below 1%, else a percentage."""
    return f"{value:.1e}" if value < 0.01 else f"{value:.2%}"


def _shows_the_numbers_of(page: Any, case: ReviewCase) -> None:
    """The numbers a reviewer weighs are the case's own: the threshold, each candidate's similarity and score, and
    the model's error rates, the false match rate at this threshold among them."""
    expect(page.locator("dl.facts dt:text-is('Threshold') + dd")).to_have_text(f"similarity {case.threshold:.4f}")
    for number, candidate in enumerate(case.candidates, 1):
        figure = page.locator(".compare figure").filter(has_text=f"Candidate {number}: {candidate['subject']}")
        expect(figure).to_contain_text(f"similarity {candidate['similarity']:.4f}, score {candidate['score']:.1f}")
    assert "fmr_at_threshold" in case.model_error_rates, case.model_error_rates
    rates = page.get_by_role("table", name=f"Error rates of {case.model_id}, measured on public datasets")
    expect(rates.locator("tbody tr")).to_have_count(len(case.model_error_rates))
    for key, value in case.model_error_rates.items():
        row = rates.locator("tbody tr").filter(has=page.get_by_role("cell", name=MEASURES.get(key, key), exact=True))
        expect(row.get_by_role("cell").nth(1)).to_have_text(_shown_rate(value))


def _faces_have_meaningful_alt_text(page: Any, case: ReviewCase) -> None:
    """Probe and candidates are shown (decoded, not broken), each described in words a screen reader can use:
    which face it is, not a file name or a bare "image"."""
    faces = page.locator(".compare img")
    expect(faces).to_have_count(1 + len(case.candidates))
    alts = [face.get_attribute("alt") or "" for face in faces.all()]
    assert all(face.evaluate("img => img.complete && img.naturalWidth > 0") for face in faces.all())
    assert "probe" in alts[0].lower()
    for alt, candidate in zip(alts[1:], case.candidates, strict=True):
        assert candidate["subject"] in alt, alt
    for alt in alts:
        assert len(alt.split()) >= 3 and not re.search(r"\.(jpe?g|png|webp)$|^(image|photo|face)$", alt, re.I), alt
    assert len(set(alts)) == len(alts)  # the probe and each candidate told apart


def _confirm(page: Any, justification: str) -> None:
    page.get_by_label("Confirm: the probe is eileen").check()
    page.get_by_label("Justification (required)").fill(justification)
    page.get_by_role("button", name="Record my decision").click()


def test_a_match_is_released_by_two_different_reviewers(site: Site, new_context: Any, astronaut: np.ndarray) -> None:
    olga = log_in(new_context, site, "olga")
    olga.goto(f"{site.url}/dashboard/collections/members/search")
    expect(olga.get_by_label("Purpose")).to_have_value("door")  # the collection's purpose, chosen for her
    olga.get_by_label("Photo", exact=True).set_input_files(upload("door-camera.jpg", encode(astronaut)))
    olga.get_by_role("button", name="Search").click()
    expect(olga.get_by_role("heading", name="Held for review")).to_be_focused()
    expect(olga.get_by_text("Eileen Collins")).to_have_count(0)  # the requester does not see held candidates
    accessible(olga, "search-held")
    case_link = olga.get_by_role("link", name="See what the reviewers released")
    result_url = f"{site.url}{case_link.get_attribute('href')}"
    case_id = result_url.rsplit("/", 1)[1]

    rita = log_in(new_context, site, "rita")
    rita.goto(f"{site.url}/dashboard/reviews")
    accessible(rita, "review-queue")
    rita.get_by_role("link", name=f"Case {case_id[:12]}").click()
    expect(rita.get_by_role("img", name="The probe: the face that was searched for")).to_be_visible()
    expect(rita.get_by_role("img", name="Candidate eileen: their enrolled face")).to_be_visible()
    expect(rita.get_by_text("Still needed: 2 more confirmations")).to_be_visible()
    with library(site) as regard:
        case = regard.review_case(case_id, regard.authenticate(site.keys["rita"]))
    assert [c["subject"] for c in case.candidates] == ["eileen"]
    _shows_the_numbers_of(rita, case)
    _faces_have_meaningful_alt_text(rita, case)
    accessible(rita, "review-case")
    _confirm(rita, "same ear shape, same scar above the left eyebrow")
    expect(rita.get_by_text("Confirmed by rita.")).to_be_visible()
    expect(rita.get_by_text("Still needed: 1 more confirmation from another person.")).to_be_visible()
    expect(rita.get_by_text("The next confirmation must come from someone else.")).to_be_visible()
    accessible(rita, "review-case-confirmed-once")

    olga.goto(result_url)
    expect(olga.get_by_text("The reviewers have not finished.")).to_be_visible()
    expect(olga.get_by_text("eileen")).to_have_count(0)
    accessible(olga, "released-pending")

    sam = log_in(new_context, site, "sam")
    sam.goto(f"{site.url}/dashboard/reviews/{case_id}")
    _confirm(sam, "agree: same person")
    expect(sam.get_by_role("heading", name="Status: released")).to_be_visible()
    expect(sam.get_by_text("Confirmed by rita, sam.")).to_be_visible()

    olga.goto(result_url)
    released = olga.get_by_role("table", name="Matches confirmed by the reviewers")
    expect(released).to_contain_text("Eileen Collins")
    expect(released).to_contain_text("rita, sam")
    accessible(olga, "released")


def test_auditor_and_reviewer_pages(site: Site, new_context: Any) -> None:
    aude = log_in(new_context, site, "aude")
    aude.goto(f"{site.url}/dashboard/ledger")
    expect(aude.get_by_text("Verified: no problem found.")).to_be_visible()
    expect(aude.get_by_role("table", name=re.compile(r"Entries \d+ to \d+ of \d+"))).to_contain_text("enroll")
    accessible(aude, "ledger")
    aude.goto(f"{site.url}/dashboard/report")
    expect(aude.get_by_role("heading", name="Denials by rule")).to_be_visible()
    expect(aude.get_by_text("chain intact")).to_be_visible()
    accessible(aude, "report")
    download = aude.request.get(f"{site.url}/dashboard/report/download?format=markdown")
    assert download.ok and "regard-ledger-checkpoint:" in download.text()
    aude.goto(f"{site.url}/dashboard/fairness")
    expect(aude.get_by_role("heading", name=re.compile("sface at FMR 1.0e-04: active"))).to_be_visible()
    expect(aude.get_by_role("img", name=re.compile("FMR per group"))).not_to_have_count(0)
    expect(aude.get_by_role("img", name=re.compile("DET curves per group"))).not_to_have_count(0)
    accessible(aude, "fairness")
    for path, text in (("purposes", "access-control"), ("policy", "History"), ("consents", "signed form 2026-11-27")):
        aude.goto(f"{site.url}/dashboard/{path}")
        expect(aude.get_by_role("main")).to_contain_text(text)
        accessible(aude, path)
    aude.goto(f"{site.url}/dashboard/applications")
    expect(aude.get_by_role("heading", name=re.compile("Application 1: scale for photos"))).to_be_visible()
    expect(aude.get_by_role("button", name="Record my decision")).to_have_count(0)  # auditors read, reviewers decide
    accessible(aude, "applications-auditor")
    aude.goto(f"{site.url}/dashboard/reviews")
    expect(aude.get_by_role("alert")).to_contain_text("forbidden")
    accessible(aude, "error-forbidden")

    rita = log_in(new_context, site, "rita")
    rita.goto(f"{site.url}/dashboard/applications")
    accessible(rita, "applications-reviewer")
    rita.get_by_label("Approve", exact=True).check()
    rita.get_by_label("Reason (required)").fill("the archive is documented")
    rita.get_by_role("button", name="Record my decision").click()
    expect(rita.get_by_role("heading", name=re.compile("Application 1: scale for photos, approved"))).to_be_visible()
    expect(rita.get_by_text("rita: the archive is documented")).to_be_visible()
    accessible(rita, "applications-decided")
    rita.goto(f"{site.url}/dashboard/no-such-page")
    expect(rita.get_by_role("alert")).to_contain_text("not_found")
    accessible(rita, "error-not-found")
