#!/usr/bin/env bash
# Set up (if needed) and run the main job: the whole forecasting loop on the Kursk question set
# with a simulated team of analysts; prints where the HTML report is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/forecast demo "$@"
