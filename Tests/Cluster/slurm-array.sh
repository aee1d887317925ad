#!/usr/bin/env bash
# A sharded run on a real SLURM: starts munged, slurmctld and slurmd on this machine (loopback, everything under a
# fresh temporary folder), submits `universeg slurm --submit` for 9 small studies in 3 shards, cancels one shard
# after its first study, resubmits it, and checks that every study was done exactly once, with nothing partial,
# and that the summary job and `universeg summary` list all of them. Stops every daemon it started, by PID.
# Needs root and Debian's slurm-wlm and munge (scripts/install-deps.sh); skips, saying why, without them.
# Usage: Tests/Cluster/slurm-array.sh [path/to/universeg]
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
universeg="$(realpath "${1:-$repo/.build/debug/universeg}")"

skip() { echo "SKIP slurm-array: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root to run slurmctld/slurmd as SlurmUser=root"
for tool in munged mungekey slurmctld slurmd sbatch squeue scancel sinfo; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install slurm-wlm munge)"
done
[ -x "$universeg" ] || { echo "FAIL slurm-array: no universeg binary at $universeg (swift build first)"; exit 1; }

work="$(mktemp -d /tmp/universeg-slurm.XXXXXX)"
pids=()
stop_daemons() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
}
finish() {
    local status=$?
    stop_daemons
    if [ "$status" -ne 0 ]; then
        echo "--- logs (kept in $work) ---"
        tail -n 20 "$work"/state/*.log "$work"/run/out/slurm/logs/*.log 2>/dev/null || true
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap finish EXIT
fail() { echo "FAIL slurm-array: $*"; exit 1; }

# --- a one-node cluster (facts: ../shared/SLURM.md) ---
state="$work/state"; mkdir -p "$state/spool" "$state/slurmd"
mungekey --create --keyfile="$state/munge.key" >/dev/null 2>&1 || mungekey -c -k "$state/munge.key"
chmod 600 "$state/munge.key"
munged -F --key-file="$state/munge.key" --socket="$state/munge.socket" --pid-file="$state/munged.pid" \
    --log-file="$state/munged.log" --seed-file="$state/munge.seed" --force >"$state/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$state/munge.socket" ] && break; sleep 0.1; done
[ -S "$state/munge.socket" ] || fail "munged did not start"

export SLURM_CONF="$state/slurm.conf"
cat > "$SLURM_CONF" <<CONF
ClusterName=universeg-test
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$state/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=300
MailProg=/bin/true
StateSaveLocation=$state/spool
SlurmdSpoolDir=$state/slurmd
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
SlurmctldPort=$((20000 + RANDOM % 20000))
SlurmdPort=$((40000 + RANDOM % 20000))
NodeName=localhost CPUs=$(nproc) RealMemory=$(free -m | awk '/^Mem:/ {print int($2 * 0.8)}') State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -D -i -f "$SLURM_CONF" >"$state/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" >"$state/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ "$(sinfo -h -N -o %T 2>/dev/null)" = idle ] && break; sleep 0.2; done
[ "$(sinfo -h -N -o %T 2>/dev/null)" = idle ] || fail "the node did not become idle: $(sinfo -h -N -o %T 2>&1)"

# --- 9 small studies; the shard that gets the most is cancelled after its first study, so its others are slow ---
run="$work/run"; mkdir -p "$run/in"
small="$repo/Tests/VolumeIOTests/Fixtures/nifti/nifti2_double.nii.gz"
slow="$repo/Tests/VolumeIOTests/Fixtures/nifti/phantom_ras.nii.gz"
for i in 1 2 3 4 5 6 7 8 9; do mkdir -p "$run/in/study$i"; cp "$small" "$run/in/study$i/image.nii.gz"; done
cat > "$run/pipeline.yaml" <<YAML
version: 1
name: slurm-test
inputs: {folder: in, format: nifti}
support: {library: $repo/SampleData/support/from-brain1}
targets: [{name: lesion, value: 1, labels: [1]}]
model: {weights: $repo/Tests/UniverSegTests/Fixtures/mixed.safetensors, support_size: 2, ensemble: 1}
outputs: {folder: out, naming: "{study}/{study}"}
YAML
members() { "$universeg" run "$run/pipeline.yaml" --dry-run --shard "$1/3" 2>/dev/null | awk '$1 == "process" {print $2}'; }
victim=0; most=0
for k in 0 1 2; do
    n=$(members "$k" | wc -l)
    if [ "$n" -gt "$most" ]; then victim=$k; most=$n; fi
done
[ "$(for k in 0 1 2; do members "$k"; done | sort | uniq | wc -l)" -eq 9 ] || fail "the shards do not cover the 9 studies once each"
[ "$most" -ge 3 ] || fail "no shard owns 3 studies"
for study in $(members "$victim" | tail -n +2); do cp "$slow" "$run/in/$study/image.nii.gz"; done

# --- submit, cancel the victim after its first study, wait for everything ---
cd "$run"
submitted="$("$universeg" slurm pipeline.yaml --shards 3 --cpus-per-task 1 --submit | tail -n 1)"
array=$(sed -E 's/.*shards as job ([0-9]+).*/\1/' <<<"$submitted")
summary=$(sed -E 's/.*summary as job ([0-9]+).*/\1/' <<<"$submitted")
[[ "$array" =~ ^[0-9]+$ && "$summary" =~ ^[0-9]+$ ]] || fail "no job ids in: $submitted"
ledger="out/ledger-shard-$victim-of-3.jsonl"
for _ in $(seq 1200); do [ -s "$ledger" ] && break; sleep 0.1; done
[ -s "$ledger" ] || fail "shard $victim recorded no study in 120 s"
scancel "${array}_${victim}"

terminal() { [[ "$1" =~ ^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE)$ ]]; }
wait_for() {   # JOBID...: until every job (and array element) is in a terminal state
    for _ in $(seq 900); do
        local busy=0
        for id in "$@"; do
            while read -r st; do terminal "${st%% *}" || busy=1; done < <(squeue -h -t all -j "$id" -o %T)
        done
        [ "$busy" -eq 0 ] && return 0
        sleep 0.2
    done
    fail "jobs $* did not finish in 180 s"
}
wait_for "$array" "$summary"
state_of() { squeue -h -t all -j "$1" -o "%i %T" | awk -v id="$1" '$1 == id {print $2}'; }
[ "$(state_of "${array}_${victim}")" = CANCELLED ] || fail "shard $victim is $(state_of "${array}_${victim}"), not CANCELLED (it finished before the cancel?)"
left=$(grep -c '"status":"done"' "$ledger")
[ "$left" -lt "$most" ] || fail "the cancelled shard finished all its $most studies"
[ "$(jq '.studies | length' out/summary.json)" -eq 9 ] || fail "the summary job did not list 9 studies"
[ "$(jq -r '.notStarted' out/summary.json)" -eq $((most - left)) ] || fail "summary: not started $(jq .notStarted out/summary.json), expected $((most - left))"
[ "$(state_of "$summary")" = FAILED ] || fail "the summary job should fail (exit 1) while studies are missing; it is $(state_of "$summary")"

# --- resubmit the cancelled shard alone: it does only what was left ---
again=$(sbatch --parsable --array="$victim" out/slurm/shards.sbatch | cut -d';' -f1)
wait_for "$again"
[ "$(state_of "${again}_${victim}")" = COMPLETED ] || fail "the resubmitted shard ended $(state_of "${again}_${victim}")"
grep -q "$((most - left)) done, $left skipped, 0 failed" out/slurm/logs/shard-$victim.log \
    || fail "the resubmitted shard did not do exactly the $((most - left)) studies left: $(tail -n 2 out/slurm/logs/shard-$victim.log)"

"$universeg" summary pipeline.yaml >/dev/null || fail "universeg summary: the run is not complete"
[ "$(jq -r '.done' out/summary.json)" -eq 9 ] || fail "summary: not 9 done"
for i in 1 2 3 4 5 6 7 8 9; do
    n=$(cat out/ledger*.jsonl | jq -r "select(.study == \"study$i\" and .status == \"done\") | .study" | wc -l)
    [ "$n" -eq 1 ] || fail "study$i was done $n times"
    for f in seg.nii.gz report.json qc.png; do [ -s "out/study$i/study${i}_$f" ] || fail "out/study$i/study${i}_$f is missing"; done
done
[ -z "$(find out -name '.tmp-*')" ] || fail "temporary files remain: $(find out -name '.tmp-*')"
echo "PASS slurm-array: 9 studies in 3 shards, shard $victim cancelled after $left of $most and resubmitted; each study done once"
