#!/usr/bin/env bash
# universeg against PyTorch and ONNX Runtime, one run, interleaved (infer engine torch onnx, infer engine torch onnx,
# ...) so every side sees the same machine load. Prints the table that README.md and docs/engine.md quote:
# per-slice time (median and min-max), peak RSS per process, ratios to PyTorch, and the load average before and
# after. See Tools/reference/bench_side_by_side.py for what each side measures.
#
#   scripts/benchmark-vs-pytorch.sh [ROUNDS] [THREADS] [QUERIES]   (defaults 3, 2, 2: timed forwards per process)
#
# Python side: a venv at Tools/bench-venv (or VENV=...) with the packages of Tools/reference/bench-requirements.txt
# (torch as PyPI serves it, onnxruntime, onnx, nibabel); created on first use (downloads ~3 GB for torch with its
# CUDA libraries, which the CPU run does not use).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
threads="${2:-2}"
queries="${3:-2}"
venv="${VENV:-Tools/bench-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r Tools/reference/bench-requirements.txt
fi
python="$venv/bin/python"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

swift build -c release --product universeg-bench >/dev/null
swift build -c release --product universeg >/dev/null
bin="$(swift build -c release --show-bin-path)"
"$python" Tools/reference/bench_side_by_side.py prepare "$work" >/dev/null

echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; OpenBLAS $(dpkg-query -W -f='${Version}' libopenblas0-pthread 2>/dev/null || echo '?'); $(swift --version 2>&1 | head -1)"
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS="$threads" \
    "$python" Tools/reference/bench_side_by_side.py run "$work" --infer "$bin/universeg" --bench "$bin/universeg-bench" \
    --rounds "$rounds" --threads "$threads" --queries "$queries"
