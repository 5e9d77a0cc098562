#!/usr/bin/env bash
# Line coverage of metadata/ and validator/ over the whole test suite, including the msgavail
# processes that acceptance tests and the README runner start ([tool.coverage.run] patch =
# subprocess in pyproject.toml). Separate from the suite (it runs slower); no fail-under gate.
#   scripts/coverage.sh [pytest args...]      e.g. scripts/coverage.sh tests/unit
# Writes .coverage and prints the report (the figure is recorded in BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
export COVERAGE_FILE="$PWD/.coverage"
rm -f .coverage .coverage.*
"$py" -m coverage run -m pytest -q -p no:cacheprovider "$@"
"$py" -m coverage combine -q
"$py" -m coverage report
