"""Side-by-side benchmark of scripts/benchmark-vs-pytorch.sh: universeg against PyTorch and ONNX Runtime, one run.

  python bench_side_by_side.py prepare DIR [--supports 16 64]      # weights, ONNX models, NIfTI inputs in DIR
  python bench_side_by_side.py worker torch|onnx DIR --support S    # one process: warm-up, timed forwards, JSON out
  python bench_side_by_side.py run DIR --infer BIN --bench BIN [--rounds 5 --supports 16 64 --threads 2]

`run` interleaves the five sides (A B C D E A B C D E ...) so that every side sees the same machine load, each in its
own process, and prints one table: median and spread (min-max) of the per-slice time, and peak RSS per process
(from wait4, so it is the child's own high-water mark).

  infer  - the whole `universeg infer` process with default options: start, weight loading, NIfTI reading, support
           preparation, one forward, writing the logits (wall clock of the process). The default precision, auto,
           runs bf16 GEMMs on CPUs with AVX512-BF16 and fp32 elsewhere.
  infer-fp32 - the same with `--precision fp32` (exact: logits within 1e-4 of the float64 reference).
  engine - universeg-bench: the engine's forward only, default precision (model loaded and support prepared before
           timing).
  torch  - PyTorch forward only, the official (plain) formulation of Tools/reference/universeg_model.py.
  onnx   - ONNX Runtime CPU forward only, the same formulation exported with torch.onnx, all graph optimisations on.

Every forward-only process runs 1 untimed warm-up forward, then `--queries` timed ones; all use `--threads`.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
SIZE = 128
SIDES = ("infer", "infer-fp32", "engine", "torch", "onnx")


def image(seed: int, size: int = SIZE):
    import numpy as np
    i = np.arange(size * size, dtype=np.float32)
    y, x, s = (i // size) / size, (i % size) / size, float(seed)
    return (0.5 + 0.5 * np.sin(6.3 * (x + 0.37 * s)) * np.cos(4.1 * (y - 0.21 * s))).astype(np.float32).reshape(size, size)


def inputs(support: int):
    import numpy as np
    images = np.stack([image(i + 1) for i in range(support)])
    return image(0)[None, None], images[None, :, None], (images > 0.6).astype(np.float32)[None, :, None]


def prepare(args) -> None:
    import nibabel as nib
    import numpy as np
    import torch
    from safetensors.torch import save_file
    from universeg_model import UniverSeg, load
    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    weights = out / "nf64.safetensors"
    save_file({k: v.contiguous() for k, v in UniverSeg().state_dict().items()}, str(weights))
    model = load(str(weights)).eval()

    class Plain(torch.nn.Module):  # the official formulation, as a user would export it
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, q, si, sl):
            return self.m(q, si, sl, split=False)

    for s in args.supports:
        q, si, sl = inputs(s)
        # NIfTI axis 0 is the model's width axis: a row-major (H, W) array is stored transposed.
        affine = np.eye(4)
        nib.save(nib.Nifti1Image(q[0, 0].T.copy(), affine), str(out / f"query.nii"))
        nib.save(nib.Nifti1Image(si[0, :, 0].transpose(2, 1, 0).copy(), affine), str(out / f"images{s}.nii"))
        nib.save(nib.Nifti1Image(sl[0, :, 0].transpose(2, 1, 0).copy(), affine), str(out / f"labels{s}.nii"))
        path = out / f"plain{s}.onnx"
        args_ = tuple(torch.from_numpy(a) for a in (q, si, sl))
        with torch.inference_mode():
            torch.onnx.export(Plain(model), args_, str(path), input_names=["query", "images", "labels"],
                              output_names=["logits"], opset_version=17, dynamo=False)
        if s == min(args.supports):  # the exported graph computes what PyTorch computes
            import onnxruntime as ort
            with torch.inference_mode():
                expected = model(*args_, split=False).numpy()
            got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, dict(zip(
                ["query", "images", "labels"], (q, si, sl))))[0]
            difference = float(np.abs(got - expected).max())
            if difference > 1e-4:
                raise SystemExit(f"ONNX export differs from PyTorch by {difference} at S={s}")
    # Start-up probe: a 16x16 query with one support element, so nearly all of the process is start and loading.
    small = image(0, 16)
    nib.save(nib.Nifti1Image(small.T.copy(), np.eye(4)), str(out / "small_query.nii"))
    nib.save(nib.Nifti1Image(small.T.copy()[..., None], np.eye(4)), str(out / "small_images.nii"))
    nib.save(nib.Nifti1Image((small.T > 0.6).astype(np.float32)[..., None], np.eye(4)), str(out / "small_labels.nii"))
    print(json.dumps({"prepared": str(out), "torch": torch.__version__}))


def worker(args) -> None:
    q, si, sl = inputs(args.support)
    if args.side == "torch":
        import torch
        from universeg_model import load
        torch.set_num_threads(args.threads)
        torch.set_num_interop_threads(1)
        model = load(str(Path(args.dir) / "nf64.safetensors")).eval()
        tq, tsi, tsl = (torch.from_numpy(a) for a in (q, si, sl))

        def forward():
            with torch.inference_mode():
                return model(tq, tsi, tsl, split=False)
        version = f"torch {torch.__version__}"
    else:
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(Path(args.dir) / f"plain{args.support}.onnx"), options,
                                       providers=["CPUExecutionProvider"])
        feed = {"query": q, "images": si, "labels": sl}

        def forward():
            return session.run(None, feed)
        version = f"onnxruntime {ort.__version__}"
    forward()  # warm-up: oneDNN / ORT kernel selection, allocator
    times, cpu = [], []
    for _ in range(args.queries):
        start, start_cpu = time.perf_counter(), time.process_time()
        forward()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    print(json.dumps({"times_ms": times, "cpu_ms": cpu, "version": version,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def timed(command: list[str]) -> tuple[float, float, float, str]:
    """Runs `command` under wait4: (wall seconds, CPU seconds, the child's own peak RSS in MiB, its stdout)."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        stdout = process.stdout.read().decode()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{errors.read().decode()}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stdout


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run(args) -> None:
    d = Path(args.dir)
    py = sys.executable
    weights = str(d / "nf64.safetensors")
    wall: dict[tuple[str, int], list[float]] = {}
    cpu: dict[tuple[str, int], list[float]] = {}
    rss: dict[tuple[str, int], float] = {}
    versions: dict[str, str] = {}

    def record(key, walls, cpus, peak):
        wall.setdefault(key, []).extend(walls)
        cpu.setdefault(key, []).extend(cpus)
        rss[key] = max(rss.get(key, 0), peak)

    def infer(query, images, labels, precision="auto"):
        seconds, cpu_seconds, peak, _ = timed([args.infer, "infer", "--weights", weights, "--query", str(d / query),
                                               "--support-images", str(d / images), "--support-labels", str(d / labels),
                                               "--logits", str(d / "logits.nii"), "--threads", str(args.threads),
                                               "--precision", precision])
        return [seconds * 1000], [cpu_seconds * 1000], peak

    before = loadavg()
    started = time.time()
    for r in range(args.rounds):
        for s in args.supports:
            for side in SIDES:
                if side.startswith("infer"):
                    walls, cpus, peak = infer("query.nii", f"images{s}.nii", f"labels{s}.nii",
                                              "fp32" if side == "infer-fp32" else "auto")
                else:
                    command = ([args.bench, "--weights", weights] if side == "engine"
                               else [py, __file__, "worker", side, str(d)])
                    _, _, peak, out = timed(command + ["--support", str(s), "--queries", str(args.queries),
                                                       "--threads", str(args.threads)])
                    result = json.loads(out)
                    walls, cpus = result["times_ms"], result["cpu_ms"]
                    versions[side] = result.get("version", "")
                record((side, s), walls, cpus, peak)
                print(f"round {r + 1} S={s} {side}: {' '.join(f'{t:.0f}' for t in walls)} ms, peak {peak:.0f} MiB",
                      file=sys.stderr, flush=True)
        record(("startup", 1), *infer("small_query.nii", "small_images.nii", "small_labels.nii"))
    after = loadavg()
    labels = {"infer": "universeg infer, whole process", "infer-fp32": "universeg infer --precision fp32, whole process",
              "engine": "universeg engine, forward only",
              "torch": f"PyTorch forward only ({versions.get('torch', '?')})",
              "onnx": f"ONNX Runtime forward only ({versions.get('onnx', '?')})"}
    print(f"\n{args.rounds} interleaved rounds in {time.time() - started:.0f} s, {args.threads} threads, 128x128 "
          f"query, width-64 random weights; load average (1, 5, 15 min) before {before}, after {after}; "
          f"{os.cpu_count()} CPUs\n")
    print("| S | side | wall ms per slice, median (min-max) | n | PyTorch / this (wall medians) "
          "| CPU ms per slice, median | PyTorch / this (CPU) | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for s in args.supports:
        reference, reference_cpu = statistics.median(wall[("torch", s)]), statistics.median(cpu[("torch", s)])
        for side in SIDES:
            w, c = wall[(side, s)], cpu[(side, s)]
            print(f"| {s} | {labels[side]} | {statistics.median(w):.0f} ({min(w):.0f}-{max(w):.0f}) | {len(w)} "
                  f"| {reference / statistics.median(w):.1f}x | {statistics.median(c):.0f} "
                  f"| {reference_cpu / statistics.median(c):.1f}x | {rss[(side, s)]:.0f} |")
    w, c = wall[("startup", 1)], cpu[("startup", 1)]
    print(f"\nStart-up: the whole `universeg infer` process on a 16x16 query with S=1 (process start, loading the "
          f"width-64 weights, NIfTI I/O; the forward itself is under 1 ms): wall median {statistics.median(w):.0f} ms "
          f"({min(w):.0f}-{max(w):.0f}), CPU median {statistics.median(c):.0f} ms, peak RSS {rss[('startup', 1)]:.0f} MiB")


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("prepare")
    a.add_argument("dir")
    a.add_argument("--supports", type=int, nargs="+", default=[16, 64])
    w = sub.add_parser("worker")
    w.add_argument("side", choices=["torch", "onnx"])
    w.add_argument("dir")
    w.add_argument("--support", type=int, required=True)
    w.add_argument("--queries", type=int, default=3)
    w.add_argument("--threads", type=int, default=2)
    r = sub.add_parser("run")
    r.add_argument("dir")
    r.add_argument("--infer", required=True)
    r.add_argument("--bench", required=True)
    r.add_argument("--supports", type=int, nargs="+", default=[16, 64])
    r.add_argument("--rounds", type=int, default=5)
    r.add_argument("--queries", type=int, default=3)
    r.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    {"prepare": prepare, "worker": worker, "run": run}[args.command](args)


if __name__ == "__main__":
    main()
