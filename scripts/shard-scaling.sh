#!/usr/bin/env bash
# Measures what splitting a run into shards buys on this machine: one `universeg run` with 2 engine threads against
# two shards (`--shard 0/2` and `--shard 1/2`, 1 thread each) running at once, on the same studies, interleaved
# (A B A B ...) so a noisy machine hurts both alike. Prints studies/hour per repetition, the medians and the ratio.
#   scripts/shard-scaling.sh [STUDIES=6] [REPETITIONS=3]
# Studies: copies of SampleData/nifti-study/brain2 (256x256x23), the brain-lesion pipeline's support and settings,
# bundled model, release build.
set -euo pipefail
cd "$(dirname "$0")/.."
studies=${1:-6}; repetitions=${2:-3}
swift build -c release --product universeg >/dev/null
bin="$(swift build -c release --show-bin-path)/universeg"
work="$(mktemp -d /tmp/universeg-scaling.XXXXXX)"; trap 'rm -rf "$work"' EXIT
for i in $(seq "$studies"); do
    mkdir -p "$work/in/case$i"; cp SampleData/nifti-study/brain2/brain2_image.nii.gz "$work/in/case$i/case${i}_image.nii.gz"
done
sed -e "s|folder: ../SampleData/nifti-study|folder: $work/in|" -e "s|folder: ../out/brain-lesion-nifti|folder: $work/out|" \
    -e "s|\.\./SampleData|$PWD/SampleData|g" Pipelines/brain-lesion-nifti.yaml > "$work/pipeline.yaml"
grep -q "$work/in" "$work/pipeline.yaml" || { echo "could not point the pipeline at $work/in" >&2; exit 1; }

rate() { awk -v n="$studies" -v s="$1" 'BEGIN { printf "%.1f", n * 3600 / s }'; }
one_process() { rm -rf "$work/out"; "$bin" run "$work/pipeline.yaml" --threads 2 -q >/dev/null; }
two_shards() {
    rm -rf "$work/out"
    "$bin" run "$work/pipeline.yaml" --shard 0/2 --threads 1 -q >/dev/null & local a=$!
    "$bin" run "$work/pipeline.yaml" --shard 1/2 --threads 1 -q >/dev/null & local b=$!
    wait "$a"; wait "$b"
}
seconds() { local start end; start=$(date +%s.%N); "$@"; end=$(date +%s.%N); awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "studies: $studies x brain2 (256x256x23), $(grep -E 'support_size|ensemble' "$work/pipeline.yaml" | xargs)"
echo "shards of 2: $("$bin" run "$work/pipeline.yaml" --dry-run --shard 0/2 | tail -n 1 | cut -d';' -f1) in shard 0"
a=(); b=()
for r in $(seq "$repetitions"); do
    ta=$(seconds one_process); tb=$(seconds two_shards)
    a+=("$ta"); b+=("$tb")
    echo "repetition $r: 1 process x 2 threads ${ta} s ($(rate "$ta") studies/h) | 2 shards x 1 thread ${tb} s ($(rate "$tb") studies/h)"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ma=$(median "${a[@]}"); mb=$(median "${b[@]}")
echo "median: 1 process x 2 threads $(rate "$ma") studies/h, 2 shards x 1 thread $(rate "$mb") studies/h: 2 shards $(awk -v a="$ma" -v b="$mb" 'BEGIN { printf "%.2f", a / b }')x the throughput; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
