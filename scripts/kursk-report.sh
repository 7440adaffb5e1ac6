#!/usr/bin/env bash
# Regenerate the committed report of the real Kursk run (reports/kursk-2024/): the document's
# forecast, the model priors, the real news replayed and the real resolutions, then the report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
.venv/bin/forecast demo --out "$tmp/ws" --report-dir reports/kursk-2024 --no-progress
