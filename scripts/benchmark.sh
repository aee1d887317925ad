#!/usr/bin/env bash
# Engine vs PyTorch reference, one machine, one run: ms per 128x128 query slice, peak RSS, GFLOP/s, for S in
# {1, 8, 16, 64}. Each measurement is its own process (so peak RSS is per support size). Needs Tools/bench-venv (scripts/benchmark-vs-pytorch.sh creates it; or
# VENV=...) with torch and safetensors for the reference side and for the random full-width weights.
# Usage: scripts/benchmark.sh [threads]   (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
venv="${VENV:-Tools/bench-venv}"
python="$venv/bin/python"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

swift build -c release --product universeg-bench >/dev/null
bench=.build/release/universeg-bench
"$python" Tools/reference/bench_reference.py --write-weights "$work/nf64.safetensors"

echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; threads=$threads; OpenBLAS $(pkg-config --modversion openblas 2>/dev/null || echo '?')"
for s in 1 8 16 64; do
    case $s in 1) sq=10 pq=10 ;; 8) sq=5 pq=5 ;; 16) sq=5 pq=3 ;; *) sq=3 pq=3 ;; esac
    "$bench" --weights "$work/nf64.safetensors" --support "$s" --queries "$sq" --threads "$threads" | tee -a "$work/results.jsonl"
    "$python" Tools/reference/bench_reference.py --weights "$work/nf64.safetensors" --support "$s" --queries "$pq" \
        --threads "$threads" | tee -a "$work/results.jsonl"
done
echo
"$python" Tools/reference/bench_reference.py --table "$work/results.jsonl"
