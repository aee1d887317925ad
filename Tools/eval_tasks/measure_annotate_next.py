"""Runs `universeg evaluate TASK --annotate-next N` on development tasks and prints one Markdown table.

    python Tools/eval_tasks/measure_annotate_next.py TASKS_DIR [TASKS_DIR ...] [--count 3] [--draws 5]
        [--measures expected-errors-spread,mean-entropy] [--universeg .build/release/universeg]
        [--out out/annotate-next] [--threads 2] [--seed 0] [--only TASK ...]

Each task's JSON is kept as OUT/TASK.json and reused when present, so an interrupted measurement resumes (delete
it after changing the options). Per query volume: 3D Dice as segmented, after adding each measure's N
least-confident slices, and after N random slices (mean ± standard deviation over the draws); the mean row's random
spread is the standard deviation of the draws' means over all volumes, and "ahead" counts the volumes where a
measure beats the random mean. Only the tool's own JSON is read: nothing here computes a Dice.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from measure_whole_volume import tasks_in  # the same task-folder discovery (this folder is on sys.path when run)


def run(a, task: Path) -> list[dict]:
    out = a.out / f"{task.name}.json"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = [a.universeg, "evaluate", str(task), "--threads", str(a.threads), "--seed", str(a.seed),
               "--annotate-next", str(a.count), "--annotate-next-measures", a.measures,
               "--annotate-next-random-draws", str(a.draws), "--json", str(out)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr}")
        print(done.stdout.strip(), file=sys.stderr, flush=True)
    return json.loads(out.read_text())


def sd(xs: list[float]) -> float:
    return statistics.stdev(xs) if len(xs) > 1 else 0.0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("tasks", nargs="+", type=Path)
    p.add_argument("--count", type=int, default=3)
    p.add_argument("--draws", type=int, default=5)
    p.add_argument("--measures", default="expected-errors-spread")
    p.add_argument("--universeg", default=".build/release/universeg")
    p.add_argument("--out", type=Path, default=Path("out/annotate-next"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", nargs="*", help="task names to run (default: all found)")
    a = p.parse_args()
    tasks = [t for t in tasks_in(a.tasks) if not a.only or t.name in a.only]
    rows = [(t.name, r) for t in tasks for r in run(a, t)]
    if not rows:
        sys.exit("no query volume")
    measures = a.measures.split(",")
    for _, r in rows:   # a reused JSON may hold more measures, in another order: take each by name
        r["least_confident"] = [r["least_confident"][r["measures"].index(m)] for m in measures]
    draws = len(rows[0][1]["random"])
    f = lambda x: f"{x:.3f}"
    d = lambda x, base: f"{x:.3f} ({x - base:+.3f})".replace("-", "−")
    print("| task | volume | 3D Dice | " + " | ".join(f"+ {a.count} `{m}`" for m in measures)
          + f" | + {a.count} random (mean ± sd of {draws}) | " + " | ".join(f"`{m}` slices" for m in measures) + " |")
    print("|" + "---|" * (4 + 2 * len(measures)))
    for task, r in rows:
        rand = [x["dice"] for x in r["random"]]
        print(f"| {task} | {r['volume']} | {f(r['dice'])} | "
              + " | ".join(d(x["dice"], r["dice"]) for x in r["least_confident"])
              + f" | {d(statistics.mean(rand), r['dice'])} ± {f(sd(rand))} | "
              + " | ".join(", ".join(map(str, x["slices"])) for x in r["least_confident"]) + " |")
    base = statistics.mean(r["dice"] for _, r in rows)
    draw_means = [statistics.mean(r["random"][k]["dice"] for _, r in rows) for k in range(draws)]
    cells = []
    for m in range(len(measures)):
        mean = statistics.mean(r["least_confident"][m]["dice"] for _, r in rows)
        ahead = sum(r["least_confident"][m]["dice"] > statistics.mean(x["dice"] for x in r["random"]) for _, r in rows)
        cells.append(f"**{d(mean, base)}**, ahead on {ahead}/{len(rows)}")
    print(f"| **mean** | {len(rows)} volumes | {f(base)} | " + " | ".join(cells)
          + f" | **{d(statistics.mean(draw_means), base)} ± {f(sd(draw_means))}** (draws' means {min(draw_means):.3f}–{max(draw_means):.3f}) |"
          + " |" * len(measures))


if __name__ == "__main__":
    main()
