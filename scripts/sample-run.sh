#!/usr/bin/env bash
# Installs what is missing, builds universeg, and runs the main job on the bundled SampleData.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product universeg
bin="$(swift build -c release --show-bin-path)/universeg"
"$bin" inspect SampleData
