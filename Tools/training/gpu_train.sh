#!/usr/bin/env bash
# The one command for the GPU machine (torch + numpy preinstalled, no network, no pip):
#   [VALIDATE_TASKS=256] bash Tools/training/gpu_train.sh [MINUTES [EXTRA train.py ARGS...]]
# MINUTES (default 8.5) is the training process's whole budget, startup and final save included.
# The task mix is the production preset's: 30 % of tasks hold label-free images (support and/or query) so the
# model learns "nothing here"; EXTRA `--empty-task-p 0` gives the mix the bundled model was trained on.
# VALIDATE_TASKS=N: afterwards, score the checkpoint it resumed from and the new one on the very same N held-out
# tasks per set (Dice, and the false-positive rate on label-free queries) into $OUT/validate.json (about a minute
# or two for 256, capped by VALIDATE_SECONDS, default 150).
# DEVICE=cpu runs the same path on a CPU (with e.g. EXTRA = --images-per-step 34 --val-tasks 2) to check it.
# Needs Tools/training/bundle/atlas_bundle.npz (python Tools/training/make_bundle.py, before sending; it is
# git-ignored, so name it in the device tool's carry: ["Tools/training/bundle"]).
# Resumes from Tools/training/checkpoint/latest.pt when that file exists.
# Writes to $OUT (or Tools/training/runs/gpu): latest.pt (model + optimizer + step + RNG), default.safetensors
# (f16), default-f32.safetensors, loss.png, metrics.json, train.log; rewritten every ~2 minutes, so a run that
# is killed still returns its last state.
set -euo pipefail
cd "$(dirname "$0")/../.."
MINUTES="${1:-8.5}"
shift || true
OUT="${OUT:-$PWD/Tools/training/runs/gpu}"
BUNDLE=Tools/training/bundle/atlas_bundle.npz
RESUME=Tools/training/checkpoint/latest.pt
mkdir -p "$OUT"
if [ ! -f "$BUNDLE" ]; then
  echo "gpu_train: $BUNDLE is missing: run 'python Tools/training/make_bundle.py' in the checkout that is sent" >&2
  exit 2
fi
nvidia-smi -L 2>/dev/null || echo "gpu_train: nvidia-smi not available"
ARGS=(--preset production --device "${DEVICE:-cuda}" --minutes "$MINUTES" --out "$OUT" --bundle "$BUNDLE" "$@")
if [ -f "$RESUME" ]; then echo "gpu_train: RESUMING from $RESUME"; ARGS+=(--resume "$RESUME"); fi
export PYTHONUNBUFFERED=1
python3 Tools/training/train.py "${ARGS[@]}" 2>&1 | tee "$OUT/train.log"
if [ "${VALIDATE_TASKS:-0}" -gt 0 ]; then
  BEFORE=()
  if [ -f "$RESUME" ]; then BEFORE=("$RESUME"); fi
  echo "gpu_train: validating ${BEFORE[*]+${BEFORE[*]}} $OUT/latest.pt on $VALIDATE_TASKS tasks per set"
  timeout "${VALIDATE_SECONDS:-150}" python3 Tools/training/validate.py ${BEFORE[@]+"${BEFORE[@]}"} "$OUT/latest.pt" \
    --tasks "$VALIDATE_TASKS" --supports 4,16 --device "${DEVICE:-cuda}" --bundle "$BUNDLE" \
    > "$OUT/validate.json" 2>> "$OUT/train.log" && cat "$OUT/validate.json" \
    || echo "gpu_train: validation did not finish (the training results are saved)" >&2
fi
