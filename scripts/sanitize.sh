#!/usr/bin/env bash
# Builds and runs the Swift test suite under a sanitizer: scripts/sanitize.sh address|thread [FILTER]
# Each sanitizer has its own build folder (.build-asan, .build-tsan), so the normal .build is untouched. The CLI
# binary the CLI tests start is built with the same sanitizer (it sits beside the test bundle), so child processes
# are checked too. Reports of every process go to $SANITIZER_LOGS (default .build-SAN/logs/SAN.PID), not to stderr,
# so the tests that read a child's stderr see what they expect; the script lists the reports at the end and exits
# non-zero when a test failed or a report other than the known ones (scripts/sanitize-suppressions/) was written.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:?usage: scripts/sanitize.sh address|thread [FILTER]}
filter=${2:-}
case "$kind" in
  address) short=asan ;;
  thread) short=tsan ;;
  *) echo "scripts/sanitize.sh: error: unknown sanitizer '$kind' (address or thread)" >&2; exit 64 ;;
esac
scratch="$PWD/.build-$short"
logs=${SANITIZER_LOGS:-$scratch/logs}
suppressions="$PWD/scripts/sanitize-suppressions"
rm -rf "$logs" && mkdir -p "$logs"

swift build --build-tests --sanitize="$kind" --scratch-path "$scratch"

if [ "$kind" = address ]; then
  # Leaks: only those in the project's own code count (see lsan.supp for the libraries' one-time allocations).
  export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1:abort_on_error=0"
  export LSAN_OPTIONS="suppressions=$suppressions/lsan.supp:print_suppressions=0"
else
  export TSAN_OPTIONS="log_path=$logs/tsan:suppressions=$suppressions/tsan.supp:halt_on_error=0:report_signal_unsafe=0"
fi

status=0
swift test --skip-build --sanitize="$kind" --scratch-path "$scratch" ${filter:+--filter "$filter"} \
  2>&1 | tee "$logs/swift-test.log" || status=$?
# Reports (one file per process that wrote one).
reports=$(grep -l -E "ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer" "$logs"/${short}.* 2>/dev/null || true)
if [ -n "$reports" ]; then
  echo "sanitizer reports:"
  for file in $reports; do echo "  $file: $(grep -m1 -E 'SUMMARY' "$file" || grep -m1 -E 'ERROR|WARNING' "$file")"; done
  if [ "$status" = 0 ]; then status=1; fi
else
  echo "no sanitizer report"
fi
exit "$status"
