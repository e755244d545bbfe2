#!/usr/bin/env bash
# The whole test suite: unit and rule tests (swift test), then end-to-end checks of the built CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d ../shared/cases ] || { echo "../shared (seed cases and checker) must sit beside this checkout"; exit 1; }
swift build
swift test --parallel
Tests/e2e/cli.sh
