#!/usr/bin/env bash
# Run the whole test suite: bash scripts/test.sh [pytest args...]
#
# 1. creates .venv (python3 -m venv) when it is missing and installs requirements-dev.txt with pip (quietly: errors only)
#    (pip, not uv: the machines hold the torch==2.13.0 CPU wheel locally and pip finds it);
# 2. installs Debian's chromium for the browser tests when /usr/bin/chromium is missing (sudo when
#    not root); if that fails the e2e tests skip locally but fail under CI=true;
# 3. runs python -m pytest with any arguments passed through.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

if [[ ! -x "$PY" ]]; then
    echo "== creating .venv"
    python3 -m venv "$VENV"
fi

# Install only when the requirements changed since the last successful install (saves ~10 s).
STAMP="$VENV/.mlplab-requirements.sha256"
WANT="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)"
if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$WANT" ]]; then
    echo "== installing requirements-dev.txt"
    "$PY" -m pip install -qq --disable-pip-version-check -r requirements-dev.txt  # -qq: errors only
    echo "$WANT" > "$STAMP"
fi

if [[ ! -x /usr/bin/chromium ]]; then
    echo "== installing Debian's chromium for the browser tests"
    SUDO=""
    if [[ "$(id -u)" != "0" ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi
    fi
    if [[ "$SUDO" == "none" ]]; then
        echo "   (not root and no sudo: skipping; e2e tests will skip locally and fail under CI=true)"
    else
        export DEBIAN_FRONTEND=noninteractive
        if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null; }; then
            echo "   chromium install failed: e2e tests will skip locally and fail under CI=true"
        fi
    fi
fi

echo "== python -m pytest $*"
exec "$PY" -m pytest "$@"
