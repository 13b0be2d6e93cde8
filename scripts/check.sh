#!/usr/bin/env bash
# Every check, as CI runs it: install (dev), lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --dev
.venv/bin/ruff check regard tests benchmarks
.venv/bin/ruff format --check regard tests benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
