"""Held-out validation tasks and their Dice.

synthetic: tasks from a fixed seed that training never uses (training seeds its generators differently).
atlas: tasks whose target is one of the bundle's held-out labels, which training never picks alone.
Both are made on the CPU from fixed seeds and then moved to the training device, so a GPU run and a CPU run
validate on the very same tasks (CPU and CUDA random streams differ; sets drawn on the device would not match).

    python Tools/training/validate.py CHECKPOINT [--tasks 256] [--bundle B]   # prints the held-out Dice
"""
from __future__ import annotations

import numpy as np
import torch

import augment
from atlas_tasks import AtlasBank
from synthetic import synthetic_tasks

VAL_SEED = 9_000_017
SUPPORT = 16


def make_sets(n_tasks: int, size: int, device, bundle: str | None) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """{'synthetic': (images, labels), 'atlas': ...}, each (n_tasks, SUPPORT + 1, size, size) on the device."""
    cpu = torch.device("cpu")
    sets = {}
    gen = torch.Generator(device=cpu).manual_seed(VAL_SEED)
    parts = []
    for start in range(0, n_tasks, 16):
        b = min(16, n_tasks - start)
        parts.append(augment.in_task(*synthetic_tasks(b, SUPPORT + 1, size, gen, cpu), gen))
    sets["synthetic"] = tuple(torch.cat(x) for x in zip(*parts))
    if bundle is not None:
        bank = AtlasBank(bundle, cpu)
        gen = torch.Generator(device=cpu).manual_seed(VAL_SEED + 1)
        rng = np.random.default_rng(VAL_SEED + 1)
        sets["atlas"] = augment.in_task(*bank.tasks(n_tasks, SUPPORT + 1, size, rng, gen, heldout=True), gen)
    return {name: (images.to(device), labels.to(device)) for name, (images, labels) in sets.items()}


def dice(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Hard Dice per item of (B, H, W) binaries; two empty masks agree perfectly."""
    inter = (pred * target).sum(dim=(-2, -1))
    total = pred.sum(dim=(-2, -1)) + target.sum(dim=(-2, -1))
    return torch.where(total > 0, 2 * inter / total.clamp_min(1e-6), torch.ones_like(total))


@torch.no_grad()
def evaluate(model, sets, device, autocast, supports=(SUPPORT,), batch: int = 8) -> dict[str, float]:
    """Mean query Dice for each set and support size: keys like 'synthetic_s16'."""
    was_training = model.training
    model.eval()
    out = {}
    for name, (images, labels) in sets.items():
        for s in supports:
            scores = []
            for i in range(0, images.shape[0], batch):
                img = images[i:i + batch].to(device)
                lab = labels[i:i + batch].to(device)
                with autocast():
                    logits = model(img[:, -1:], img[:, :s, None], lab[:, :s, None])
                scores.append(dice((logits[:, 0].float() > 0).float(), lab[:, -1]).cpu())
            out[f"{name}_s{s}"] = float(torch.cat(scores).mean())
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
    p = argparse.ArgumentParser(description="Held-out validation Dice of a training checkpoint (CPU).")
    p.add_argument("checkpoint")
    p.add_argument("--tasks", type=int, default=256, help="tasks per set")
    p.add_argument("--bundle", default=str(here / "bundle" / "atlas_bundle.npz"))
    p.add_argument("--supports", default="1,2,4,8,16,32")
    args = p.parse_args(argv)
    state = checkpoint.load(args.checkpoint)
    cfg = state["config"]
    model = UniverSeg(cfg["encoder"], cfg["decoder"])
    model.load_state_dict(state["model"])
    bundle = args.bundle if pathlib.Path(args.bundle).is_file() else None
    sets = make_sets(args.tasks, cfg["size"], "cpu", bundle)
    supports = tuple(int(s) for s in args.supports.split(","))
    result = evaluate(model, sets, "cpu", contextlib.nullcontext, supports=supports)
    print(json.dumps({"checkpoint": args.checkpoint, "step": state["step"], "tasks": args.tasks, **result}, indent=1))


if __name__ == "__main__":
    main()
