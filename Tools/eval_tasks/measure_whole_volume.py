"""Runs `universeg evaluate` on every development task with several whole-volume settings and prints one table.

    python Tools/eval_tasks/measure_whole_volume.py TASKS_DIR [TASKS_DIR ...] --config NAME="--strategy similarity" ...
        [--universeg .build/release/universeg] [--out out/measure] [--threads 2] [--probabilities]

Each run's JSON is kept as OUT/NAME/TASK.json and reused when present, so an interrupted measurement resumes.
The table has one row per setting: mean 2D Dice of the paper's protocol, mean 3D Dice of whole volumes, their gap,
voxel precision and recall (means over volumes), false shapes (label-free slices given foreground, summed over
volumes, and as a share of all label-free slices) and labelled slices missed; then one row per task and setting.
Only the tool's own JSON is read: nothing here computes a score.
"""
from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path


def tasks_in(folders: list[Path]) -> list[Path]:
    found = []
    for folder in folders:
        if (folder / "query").is_dir():
            found.append(folder)
        else:
            found += sorted(p for p in folder.iterdir() if (p / "query").is_dir())
    return found


def run(universeg: str, task: Path, args: str, out: Path, threads: int, probabilities: bool) -> dict:
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = [universeg, "evaluate", str(task), "--threads", str(threads), "--json", str(out)] + shlex.split(args)
        if probabilities:
            cmd += ["--probabilities", str(out.with_suffix(""))]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr}")
        print(done.stdout.strip(), file=sys.stderr, flush=True)
    return json.loads(out.read_text())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("tasks", nargs="+", type=Path)
    p.add_argument("--config", action="append", required=True, help='NAME="evaluate options"')
    p.add_argument("--universeg", default=".build/release/universeg")
    p.add_argument("--out", type=Path, default=Path("out/measure"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--probabilities", action="store_true", help="also keep each query's probability map (OUT/NAME/TASK/)")
    a = p.parse_args()
    configs = [c.split("=", 1) for c in a.config]
    tasks = tasks_in(a.tasks)
    results = {name: {t.name: run(a.universeg, t, opts, a.out / name / f"{t.name}.json", a.threads, a.probabilities) for t in tasks}
               for name, opts in configs}

    def mean(xs):
        return sum(xs) / len(xs) if xs else float("nan")

    print("| setting | 2D Dice | 3D Dice | 3D − 2D | precision | recall | false-shape slices | missed slices |")
    print("|---|---|---|---|---|---|---|---|")
    for name, _ in configs:
        rs = list(results[name].values())
        d2, d3 = mean([r["mean_dice_2d"] for r in rs]), mean([r["mean_dice_3d"] for r in rs])
        fp, empty = sum(r["fp_slices"] for r in rs), sum(r["empty_slices"] for r in rs)
        missed, labelled = sum(r["missed_slices"] for r in rs), sum(r["labelled_slices"] for r in rs)
        print(f"| {name} | {d2:.3f} | {d3:.3f} | {d3 - d2:+.3f} | {mean([r['mean_precision'] for r in rs]):.3f} | "
              f"{mean([r['mean_recall'] for r in rs]):.3f} | {fp}/{empty} ({100 * fp / max(empty, 1):.1f} %) | "
              f"{missed}/{labelled} |")
    print()
    print("| task | " + " | ".join(name for name, _ in configs) + " |")
    print("|---|" + "---|" * len(configs))
    for t in tasks:
        cells = []
        for name, _ in configs:
            r = results[name][t.name]
            cells.append(f"{r['mean_dice_3d']:.3f} ({r['fp_slices']}/{r['empty_slices']} fp)")
        print(f"| {t.name} (2D {results[configs[0][0]][t.name]['mean_dice_2d']:.3f}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
