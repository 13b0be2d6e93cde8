"""CI cannot pass without the browser tests: it runs the README's test command with the browser required, and the
browser fixture then fails, not skips, when chromium is missing (a developer's own check still skips, saying why)."""

from __future__ import annotations

from pathlib import Path

import pytest
from browsing import CHROMIUM, REQUIRE_BROWSER, chromium_or_stop

ROOT = Path(__file__).resolve().parents[2]


def test_ci_runs_the_readmes_test_command_with_the_browser_required() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "\nbash scripts/check.sh\n" in readme  # the quickstart's "run every check"
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert f"export {REQUIRE_BROWSER}=1" in ci and "bash scripts/check.sh" in ci
    assert ci.index(f"export {REQUIRE_BROWSER}=1") < ci.index("bash scripts/check.sh")


def test_without_chromium_the_browser_tests_fail_where_required_and_skip_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "chromium"
    monkeypatch.setenv(REQUIRE_BROWSER, "1")
    with pytest.raises(pytest.fail.Exception, match=rf"{missing} is absent: .*{REQUIRE_BROWSER}=1"):
        chromium_or_stop(missing)
    monkeypatch.delenv(REQUIRE_BROWSER)
    with pytest.raises(pytest.skip.Exception, match=rf"{missing} is absent: `bash scripts/bootstrap.sh --dev`"):
        chromium_or_stop(missing)
    missing.write_text("")  # there, but not a program
    with pytest.raises(pytest.skip.Exception):
        chromium_or_stop(missing)


def test_the_browser_is_used_where_it_is() -> None:
    assert chromium_or_stop() == CHROMIUM  # (where it is absent, this stops as the browser tests do)
