#!/usr/bin/env bash
# Installs what is missing, then runs every test: the Swift suites, the SLURM round trip and the Python tool tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
swift test --skip-build 2>&1 | tee .build/swift-test.log
Tests/Cluster/slurm-array.sh .build/debug/universeg   # a sharded run on a real SLURM it starts and stops
if [ -x scripts/test-tools.sh ]; then scripts/test-tools.sh; fi
