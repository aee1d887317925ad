#!/usr/bin/env bash
# Tests of the Python tools: the training smoke test, the coded SEG read back with pydicom (Tools/dicom_seg) and
# report statistics recomputed with nibabel + numpy (Tools/stats_check). Makes Tools/.venv when missing and installs
# the pinned requirements: torch 2.13.0+cpu first (from the machine's wheel folder; plain torch from PyPI if that
# fails), then the rest.
# Data: shared/data beside the repo, or UNIVERSEG_DATA. Ends with pytest's summary line; non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=Tools/.venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
if ! "$PY" -c 'import torch' 2>/dev/null; then
  "$PY" -m pip install -q 'torch==2.13.0+cpu' || "$PY" -m pip install -q torch
fi
"$PY" -m pip install -q -r Tools/training/requirements.txt -r Tools/dicom_seg/requirements.txt \
  -r Tools/stats_check/requirements.txt
exec "$PY" -m pytest -q -p no:cacheprovider Tools/training/test_training.py Tools/dicom_seg/test_seg_codes.py \
  Tools/stats_check/test_check_report_stats.py
