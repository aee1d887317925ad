"""Held-out validation tasks, their Dice, and the false-positive rate on label-free queries.

synthetic: tasks from a fixed seed that training never uses (training seeds its generators differently).
atlas: tasks whose target is one of the bundle's held-out labels, which training never picks alone.
synthetic_mixed, atlas_mixed: the same kinds of tasks from their own seeds, every task with label-free images
(empty_p = 1: the query label-free in about half of them, supports mixing positive and label-free images in
varying proportions; support 0 always shows the target). For these, `<set>_s<S>` is the Dice over the queries
that show the target and `<set>_fp_s<S>` the false-positive rate: the share of label-free queries given any
foreground at probability 0.5. The synthetic and atlas sets and their keys are exactly what they were before
the mixed sets existed, so their numbers stay comparable with earlier runs.
All are made on the CPU from fixed seeds and then moved to the training device, so a GPU run and a CPU run
validate on the very same tasks (CPU and CUDA random streams differ; sets drawn on the device would not match).

    python Tools/training/validate.py CHECKPOINT [CHECKPOINT ...] [--tasks 256] [--supports 4,16] [--bundle B]
                                      [--no-mixed] [--device cuda]       # prints the numbers as JSON
"""
from __future__ import annotations

import numpy as np
import torch

import augment
from atlas_tasks import AtlasBank
from synthetic import synthetic_tasks

VAL_SEED = 9_000_017
SUPPORT = 16


MIXED = ("synthetic_mixed", "atlas_mixed")   # sets with label-free queries: Dice on the others, plus the FP rate


def _synthetic_set(n_tasks: int, size: int, seed: int, empty_p: float):
    cpu = torch.device("cpu")
    gen = torch.Generator(device=cpu).manual_seed(seed)
    parts = []
    for start in range(0, n_tasks, 16):
        b = min(16, n_tasks - start)
        parts.append(augment.in_task(*synthetic_tasks(b, SUPPORT + 1, size, gen, cpu, empty_p=empty_p), gen))
    return tuple(torch.cat(x) for x in zip(*parts))


def _atlas_set(bank: AtlasBank, n_tasks: int, size: int, seed: int, empty_p: float):
    gen = torch.Generator(device="cpu").manual_seed(seed)
    rng = np.random.default_rng(seed)
    return augment.in_task(*bank.tasks(n_tasks, SUPPORT + 1, size, rng, gen, heldout=True, empty_p=empty_p), gen)


def make_sets(n_tasks: int, size: int, device, bundle: str | None,
              mixed: bool = True) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """{'synthetic': (images, labels), 'atlas': ..., 'synthetic_mixed': ..., 'atlas_mixed': ...}, each
    (n_tasks, SUPPORT + 1, size, size) on the device; atlas sets only with a bundle, mixed sets only with mixed."""
    sets = {"synthetic": _synthetic_set(n_tasks, size, VAL_SEED, 0.0)}
    bank = AtlasBank(bundle, "cpu") if bundle is not None else None
    if bank is not None:
        sets["atlas"] = _atlas_set(bank, n_tasks, size, VAL_SEED + 1, 0.0)
    if mixed:
        sets["synthetic_mixed"] = _synthetic_set(n_tasks, size, VAL_SEED + 2, 1.0)
        if bank is not None:
            sets["atlas_mixed"] = _atlas_set(bank, n_tasks, size, VAL_SEED + 3, 1.0)
    return {name: (images.to(device), labels.to(device)) for name, (images, labels) in sets.items()}


def dice(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Hard Dice per item of (B, H, W) binaries; two empty masks agree perfectly."""
    inter = (pred * target).sum(dim=(-2, -1))
    total = pred.sum(dim=(-2, -1)) + target.sum(dim=(-2, -1))
    return torch.where(total > 0, 2 * inter / total.clamp_min(1e-6), torch.ones_like(total))


def false_positives(pred: torch.Tensor, target: torch.Tensor) -> tuple[int, int]:
    """(label-free items given any foreground, label-free items) of (B, H, W) binaries."""
    empty = target.sum(dim=(-2, -1)) == 0
    drawn = pred.sum(dim=(-2, -1)) > 0
    return int((empty & drawn).sum()), int(empty.sum())


@torch.no_grad()
def evaluate(model, sets, device, autocast, supports=(SUPPORT,), batch: int = 8) -> dict[str, float]:
    """Per set and support size: mean query Dice ('synthetic_s16'); for the MIXED sets the Dice over the queries
    that show the target ('atlas_mixed_s16') and the false-positive rate on label-free queries
    ('atlas_mixed_fp_s16'; NaN if a set has none)."""
    was_training = model.training
    model.eval()
    out = {}
    for name, (images, labels) in sets.items():
        for s in supports:
            scores, fp, empty = [], 0, 0
            for i in range(0, images.shape[0], batch):
                img = images[i:i + batch].to(device)
                lab = labels[i:i + batch].to(device)
                with autocast():
                    logits = model(img[:, -1:], img[:, :s, None], lab[:, :s, None])
                pred, target = (logits[:, 0].float() > 0).float(), lab[:, -1]
                score = dice(pred, target)
                if name in MIXED:
                    score = score[target.sum(dim=(-2, -1)) > 0]
                    f, e = false_positives(pred, target)
                    fp, empty = fp + f, empty + e
                scores.append(score.cpu())
            out[f"{name}_s{s}"] = float(torch.cat(scores).mean())
            if name in MIXED:
                out[f"{name}_fp_s{s}"] = fp / empty if empty else float("nan")
    model.train(was_training)
    return out


def main(argv=None) -> None:
    import argparse
    import contextlib
    import json
    import pathlib

    import checkpoint
    from model_ref import UniverSeg

    here = pathlib.Path(__file__).resolve().parent
    p = argparse.ArgumentParser(description="Held-out validation Dice (and FP rate) of training checkpoints.")
    p.add_argument("checkpoint", nargs="+", help="one or more checkpoints, scored on the very same tasks")
    p.add_argument("--tasks", type=int, default=256, help="tasks per set")
    p.add_argument("--bundle", default=str(here / "bundle" / "atlas_bundle.npz"))
    p.add_argument("--supports", default="1,2,4,8,16,32")
    p.add_argument("--no-mixed", action="store_true", help="only the synthetic and atlas sets (as before the mixed "
                   "sets existed; half the time)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda: the sets are drawn on the CPU either way; "
                   "cuda runs the model in float32 without TF32, so its numbers match the CPU's up to rounding")
    args = p.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    bundle = args.bundle if pathlib.Path(args.bundle).is_file() else None
    supports = tuple(int(s) for s in args.supports.split(","))
    sets_by_size, results = {}, []
    for path in args.checkpoint:
        state = checkpoint.load(path)
        cfg = state["config"]
        model = UniverSeg(cfg["encoder"], cfg["decoder"]).to(device)
        model.load_state_dict(state["model"])
        if cfg["size"] not in sets_by_size:
            sets_by_size[cfg["size"]] = make_sets(args.tasks, cfg["size"], device, bundle, mixed=not args.no_mixed)
        result = evaluate(model, sets_by_size[cfg["size"]], device, contextlib.nullcontext, supports=supports)
        results.append({"checkpoint": path, "step": state["step"], "tasks": args.tasks, **result})
    # one checkpoint: its object (as before); several: a list, in the order given
    print(json.dumps(results[0] if len(results) == 1 else results, indent=1))


if __name__ == "__main__":
    main()
