"""PyTorch side of scripts/benchmark.sh: times the reference model on one support size, one JSON line out.

  python bench_reference.py --write-weights FILE          # random full-width (nf64) weights, safetensors
  python bench_reference.py --weights FILE --support 16 [--size 128 --queries 3 --threads 2]
  python bench_reference.py --table FILE.jsonl            # prints the comparison table

The forward pass is the official (plain) formulation: one conv on the concatenated [query, support_i] pairs.
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from pathlib import Path



def image(seed: int, size: int):
    import torch
    i = torch.arange(size * size, dtype=torch.float32)
    y, x, s = (i // size) / size, (i % size) / size, float(seed)
    return (0.5 + 0.5 * torch.sin(6.3 * (x + 0.37 * s)) * torch.cos(4.1 * (y - 0.21 * s))).reshape(size, size)


def write_weights(path: str) -> None:
    import torch
    from safetensors.torch import save_file
    from universeg_model import UniverSeg
    torch.manual_seed(0)
    save_file({k: v.contiguous() for k, v in UniverSeg().state_dict().items()}, path)


def bench(args) -> None:
    import torch
    from universeg_model import load
    torch.set_num_threads(args.threads)
    model = load(args.weights)
    images = torch.stack([image(i + 1, args.size) for i in range(args.support)])
    labels = (images > 0.6).float()
    q = image(0, args.size)[None, None]
    si, sl = images[None, :, None], labels[None, :, None]
    times = []
    with torch.inference_mode():
        for _ in range(2):  # warm-up: oneDNN primitive creation, allocator
            model(q, si, sl, split=False)
        for _ in range(args.queries):
            start = time.perf_counter()
            model(q, si, sl, split=False)
            times.append(time.perf_counter() - start)
    mean = sum(times) / len(times)
    print(json.dumps({"engine": "pytorch", "support": args.support, "size": args.size, "threads": args.threads,
                      "queries": args.queries, "ms_mean": round(mean * 1000, 1), "ms_best": round(min(times) * 1000, 1),
                      "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                      "torch": torch.__version__}))


def table(path: str) -> None:
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    by = {(r["engine"], r["support"]): r for r in rows}
    sizes = sorted({r["support"] for r in rows})
    print("| S | PyTorch ms/slice mean (best) | engine ms/slice mean (best) | speed-up (mean) | speed-up (best) "
          "| PyTorch peak RSS MiB | engine peak RSS MiB | plain GFLOP/slice | PyTorch GFLOP/s (best) "
          "| engine GFLOP/s plain-equivalent (best) | engine prepare ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for s in sizes:
        t, e = by.get(("pytorch", s)), by.get(("swift", s))
        if not t or not e:
            continue
        gflop = e["plain_gflop"]
        print(f"| {s} | {t['ms_mean']:.0f} ({t['ms_best']:.0f}) | {e['ms_mean']:.0f} ({e['ms_best']:.0f}) "
              f"| {t['ms_mean'] / e['ms_mean']:.1f}x | {t['ms_best'] / e['ms_best']:.1f}x "
              f"| {t['peak_rss_mib']} | {e['peak_rss_mib']} | {gflop:.1f} | {gflop / t['ms_best'] * 1000:.0f} "
              f"| {gflop / e['ms_best'] * 1000:.0f} | {e['prepare_ms']:.0f} |")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--write-weights")
    p.add_argument("--weights")
    p.add_argument("--table")
    p.add_argument("--support", type=int, default=16)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--queries", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    if args.write_weights:
        write_weights(args.write_weights)
    elif args.table:
        table(args.table)
    else:
        bench(args)


if __name__ == "__main__":
    main()
