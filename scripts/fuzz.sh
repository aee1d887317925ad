#!/usr/bin/env bash
# Fuzzes the readers with libFuzzer under AddressSanitizer (harnesses in Fuzz/, one per reader).
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]    TARGET: nifti dicom pt safetensors pipeline-yaml task-yaml
#                                             (default all, 60 s each)
#
# Each run starts from the committed seeds (Fuzz/seeds/TARGET), with a dictionary where one helps
# (Fuzz/dictionaries/TARGET.dict: magics, keys, opcodes), plus the project's fixtures for that reader, keeps
# its growing corpus in Fuzz/.corpus/TARGET (not committed), and writes crashes, hangs (> 2 s), leaks and
# allocations over 2 GB to Fuzz/findings/TARGET/ with the log beside them. A finding, once fixed, is committed as
# a regression file that `swift test` replays (see docs/robustness.md). By default libFuzzer runs in fork mode and
# goes on past slow inputs and large allocations (each still saved); a crash stops it. FUZZ_ARGS replaces those options (FUZZ_ARGS= for one process that stops at anything).
set -euo pipefail
cd "$(dirname "$0")/.."
all=(nifti dicom pt safetensors pipeline-yaml task-yaml)
target="${1:-all}"
seconds="${2:-60}"
if [[ "$target" == all ]]; then targets=("${all[@]}"); else targets=("$target"); fi
for t in "${targets[@]}"; do
    [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t' (choose from ${all[*]})" >&2; exit 64; }
done

# --sanitize=fuzzer makes SwiftPM link the harness for libFuzzer's main; the combined -sanitize=fuzzer,address
# after it is what instruments Swift code (given as two flags, as `--sanitize=fuzzer --sanitize=address` does,
# swiftc keeps only the last: no coverage, and the fuzzer runs blind). The C and C++ shims get coverage and ASan
# too (fuzzer-no-link: libFuzzer's main comes in once, with the harness's link).
build_flags=(-c debug --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address
             -Xcxx -fsanitize=fuzzer-no-link,address)
for t in "${targets[@]}"; do
    (cd Fuzz && swift build "${build_flags[@]}" --product "fuzz-$t" 2>&1 | grep -v "Cannot export local symbol" | tail -2)
done
bin=Fuzz/.build/debug

# The seeds of a target: its committed seeds, then the fixtures that reader is tested with (small files only:
# a seed over 256 KiB slows every mutation of it).
seed_sources() {
    case "$1" in
        nifti) echo Tests/VolumeIOTests/Fixtures/nifti Tests/VolumeIOTests/Fixtures/regressions/nifti ;;
        dicom) echo Tests/VolumeIOTests/Fixtures/dicom Tests/VolumeIOTests/Fixtures/regressions/dicom ;;
        pt) echo Tests/UniverSegTests/Fixtures/regressions/weights ;;
        safetensors) echo Tests/UniverSegTests/Fixtures/regressions/weights ;;
        pipeline-yaml) echo Pipelines ;;
        task-yaml) echo ;;
    esac
}

for t in "${targets[@]}"; do
    corpus="Fuzz/.corpus/$t" findings="Fuzz/findings/$t"
    mkdir -p "$corpus" "$findings"
    for source in "Fuzz/seeds/$t" $(seed_sources "$t"); do
        [[ -d "$source" ]] || continue
        find "$source" -type f -size -256k ! -name '*.json' ! -name '*.md' -exec cp -n {} "$corpus/" \; 2>/dev/null || true
    done
    dict=() && [[ -f "Fuzz/dictionaries/$t.dict" ]] && dict=(-dict="Fuzz/dictionaries/$t.dict")
    echo "== fuzz-$t: ${seconds}s from $(ls "$corpus" | wc -l) corpus files${dict:+, with Fuzz/dictionaries/$t.dict}"
    ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}" \
    "$bin/fuzz-$t" "$corpus" -max_total_time="$seconds" -timeout=2 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
        -max_len=262144 -print_final_stats=1 -artifact_prefix="$findings/" "${dict[@]}" ${FUZZ_ARGS--fork=1 -ignore_timeouts=1 -ignore_ooms=1} >"$findings.log" 2>&1 || true
    # The execution count: "Done N runs" (one process) or the last "#N:" status line (-fork mode).
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^Done|^#[0-9]+:|ERROR|SUMMARY" "$findings.log" | tail -3 || true
    found=$(find "$findings" -type f | wc -l)
    echo "   findings: $found (in $findings/; log $findings.log)"
done
