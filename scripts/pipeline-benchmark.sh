#!/usr/bin/env bash
# Pipeline benchmark (issue #4): how much a `universeg run` costs beyond the engine, and whether memory stays flat
# however many studies are queued. Prints the numbers; changes nothing in the repository.
#
#   scripts/pipeline-benchmark.sh [WEIGHTS] [MANY] [HISTORY]
#
# 1. Overhead: the sample NIfTI study (brain2, 23 axial slices) with the sample pipeline's settings (support 16,
#    ensemble 3), once alone and as a batch of 3. "engine" is the time inside the engine (support preparation and
#    predictions) summed from the reports; overhead = (wall clock of the whole command - engine) / engine, so it
#    includes process start, loading the model, reading the support library, slicing, resampling and writing.
#    WEIGHTS: default a random-weights width-64 model (same cost as the official width), the engine's fixture.
# 2. The study issue #15 names: 256x256x180 (brain2's slices repeated, Tools/sample_data/make_long_study.py), two
#    targets, support 16, everything else the defaults (bundled model, ensemble 1, writers nifti + report + qc),
#    alone: the single-study case, where nothing overlaps the fixed costs. Slices per second count both targets.
# 3. Memory: peak RSS of the whole process with 1 and with MANY (default 100) queued studies (symlinks to brain2),
#    --max-in-flight 3. A tiny random model (the engine's 3-level fixture) keeps 100 studies quick; the model's
#    own memory does not depend on the number of studies.
# 4. A long-running watch: `universeg watch` over an output folder that lists section 3's one study as done, and over
#    one that lists HISTORY (default 5000) copies of it besides (Tools/sample_data/make_watch_history.py). Prints
#    its RSS once it has started, and the milliseconds from a new study's report to the rewritten summary.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
weights=$(realpath "${1:-Tests/UniverSegTests/Fixtures/nf64_f16.safetensors}")
many=${2:-100}
history=${3:-5000}
small=$(realpath Tests/UniverSegTests/Fixtures/mixed.safetensors)

swift build -c release --product universeg >/dev/null
bin="$(swift build -c release --show-bin-path)/universeg"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo=$(pwd)

# inputs NAME N: a folder of N study folders, each with a symlink to the sample study's image.
inputs() {
    local folder="$work/in-$1"
    for i in $(seq -w 1 "$2"); do
        mkdir -p "$folder/study$i"
        ln -s "$repo/SampleData/nifti-study/brain2/brain2_image.nii.gz" "$folder/study$i/study${i}_image.nii.gz"
    done
    echo "$folder"
}

# pipeline NAME INPUTS WEIGHTS SUPPORT ENSEMBLE WRITERS: writes NAME.yaml, outputs in $work/out-NAME.
pipeline() {
    cat > "$work/$1.yaml" <<EOF
name: $1
inputs: {folder: $2, format: nifti, image: "*_image.nii.gz"}
preprocessing: {axis: axial, normalization: percentile}
support: {library: $repo/SampleData/support/from-brain1, strategy: random}
targets: [{name: lesion, value: 1, labels: [1]}]
model: {weights: $3, support_size: $4, ensemble: $5, seed: 42}
outputs: {folder: $work/out-$1, writers: [$6], summary: true}
EOF
}

# measure NAME: runs the pipeline; sets wall (s), rss (MiB), engine (s, summed over reports), studies.
measure() {
    /usr/bin/time -f "%e %M" -o "$work/$1.time" "$bin" run "$work/$1.yaml" --quiet --max-in-flight 3 >/dev/null
    read -r wall rss_kib < "$work/$1.time"
    rss=$((rss_kib / 1024))
    engine=$(cat "$work/out-$1"/*/*_report.json | awk -F': ' '/"engineSeconds"/ { gsub(",", "", $2); s += $2 } END { printf "%.2f", s }')
    studies=$(ls "$work/out-$1"/*/*_report.json | wc -l)
}

echo "universeg pipeline benchmark: $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "1. Overhead beyond the engine (brain2, 23 slices; support 16, ensemble 3; $(basename "$weights"))"
printf "%-10s %8s %10s %12s %12s %9s %9s\n" studies "wall s" "engine s" "wall/study" "engine/study" overhead "RSS MiB"
for n in 1 3; do
    pipeline "overhead$n" "$(inputs "overhead$n" "$n")" "$weights" 16 3 "nifti, probabilities, report, qc"
    measure "overhead$n"
    awk -v n="$studies" -v w="$wall" -v e="$engine" -v r="$rss" \
        'BEGIN { printf "%-10d %8.2f %10.2f %12.2f %12.2f %8.1f%% %9d\n", n, w, e, w / n, e / n, 100 * (w - e) / e, r }'
done

echo
echo "2. One 256x256x180 study, two targets, support 16, default model and options"
mkdir -p "$work/in-long/long"
python3 Tools/sample_data/make_long_study.py SampleData/nifti-study/brain2/brain2_image.nii.gz 180 \
    "$work/in-long/long/long_image.nii.gz"
printf "%-10s %8s %10s %22s %9s %9s\n" studies "wall s" "engine s" "slices/s (2 targets)" overhead "RSS MiB"
cat > "$work/long.yaml" <<EOF
name: long
inputs: {folder: $work/in-long, format: nifti, image: "*_image.nii.gz"}
support: {library: $repo/SampleData/support/from-brain1}
targets: [{name: lesion, value: 1, labels: [1]}, {name: lesion-again, value: 2, labels: [1]}]
model: {support_size: 16}
outputs: {folder: $work/out-long}
EOF
measure long
awk -v n="$studies" -v w="$wall" -v e="$engine" -v r="$rss" \
    'BEGIN { printf "%-10d %8.2f %10.2f %22.2f %8.1f%% %9d\n", n, w, e, 180 / w, 100 * (w - e) / e, r }'

echo
echo "3. Peak memory with 1 and $many queued studies (support 2, ensemble 1, $(basename "$small"), --max-in-flight 3)"
printf "%-10s %8s %12s %9s\n" studies "wall s" "wall/study" "RSS MiB"
for n in 1 "$many"; do
    pipeline "memory$n" "$(inputs "memory$n" "$n")" "$small" 2 1 "nifti, report"
    measure "memory$n"
    awk -v n="$studies" -v w="$wall" -v r="$rss" 'BEGIN { printf "%-10d %8.2f %12.3f %9d\n", n, w, w / n, r }'
done

# watched NAME EARLIER: a watch over out-NAME holding EARLIER copies of section 3's study; sets rss (MiB) once it has
# started and rewrite (s) from a new study's report to its rewritten summary.
watched() {
    mkdir -p "$work/inbox-$1" "$work/out-$1"
    cp "$work/out-memory1/ledger.jsonl" "$work/out-$1/"
    cp -r "$work/out-memory1/study1" "$work/out-$1/"
    python3 Tools/sample_data/make_watch_history.py "$work/out-$1" study1 "$2"
    pipeline "$1" "$work/inbox-$1" "$small" 2 1 "nifti, report"
    printf 'watch: {settle: 300ms, poll: 100ms, done: %s, failed: %s}\n' "$work/done-$1" "$work/failed-$1" >> "$work/$1.yaml"
    "$bin" watch "$work/$1.yaml" --quiet 2>/dev/null &
    local pid=$!
    for _ in $(seq 600); do [ -e "$work/out-$1/summary.csv" ] && break; sleep 0.1; done   # written at start
    sleep 1
    rss=$(( $(awk '/VmRSS/ { print $2 }' "/proc/$pid/status") / 1024 ))
    mkdir -p "$work/staged-$1/new1"
    ln -s "$repo/SampleData/nifti-study/brain2/brain2_image.nii.gz" "$work/staged-$1/new1/new1_image.nii.gz"
    mv "$work/staged-$1/new1" "$work/inbox-$1/"
    for _ in $(seq 600); do [ -e "$work/done-$1/new1" ] && break; sleep 0.1; done
    sleep 0.5
    kill -TERM "$pid"; wait "$pid" || true
    rewrite=$(( $(date -r "$work/out-$1/summary.csv" +%s%3N) - $(date -r "$work/out-$1/new1/new1_report.json" +%s%3N) ))
}

echo
echo "4. A watch with 1 and $((history + 1)) done studies in its output folder ($(basename "$small"))"
printf "%-14s %9s %22s\n" "done before" "RSS MiB" "report to summary, ms"
for n in 0 "$history"; do
    watched "history$n" "$n"
    printf "%-14d %9d %22d\n" $((n + 1)) "$rss" "$rewrite"
done
