#!/usr/bin/env bash
# Installs what is missing, then runs every test: the Swift suites and the Python training smoke test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
swift test --skip-build 2>&1 | tee .build/swift-test.log
if [ -x scripts/test-tools.sh ]; then scripts/test-tools.sh; fi
