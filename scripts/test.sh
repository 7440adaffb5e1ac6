#!/usr/bin/env bash
# Set up (if needed), check the code (ruff lint and format, mypy) and run the whole test
# suite, slow tests included, on two workers.  Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy forecasting
exec .venv/bin/python -m pytest -n 2 "$@"
