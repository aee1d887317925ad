"""Fills an output folder with COUNT earlier studies, copies of one study a run finished there, for benchmarks only:
scripts/pipeline-benchmark.sh starts a watch over it to measure what a watch with a long history costs.

Each copy hNNNNN gets the study's report (study name changed) and a ledger line listing that report as its only
output. Python standard library only, so it runs without Tools/.venv.

    python3 Tools/sample_data/make_watch_history.py OUTPUT_FOLDER STUDY COUNT
"""
import json
import os
import sys


def main(folder: str, study: str, count: int) -> None:
    ledger_path = os.path.join(folder, "ledger.jsonl")
    with open(ledger_path) as f:
        entries = [json.loads(line) for line in f if line.strip()]
    done = [e for e in entries if e.get("study") == study and e.get("status") == "done"]
    if not done:
        sys.exit(f"{ledger_path}: no done study named {study}")
    entry = done[-1]
    report_path = next(o for o in entry["outputs"] if o.endswith("_report.json"))
    with open(os.path.join(folder, report_path)) as f:
        report = json.load(f)
    with open(ledger_path, "a") as ledger:
        for i in range(count):
            name = f"h{i:05d}"
            os.makedirs(os.path.join(folder, name), exist_ok=True)
            report["study"] = name
            output = f"{name}/{name}_report.json"
            with open(os.path.join(folder, output), "w") as f:
                json.dump(report, f)
            ledger.write(json.dumps(dict(entry, study=name, outputs=[output]), sort_keys=True) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
