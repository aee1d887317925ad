"""Trains the default UniverSeg model on synthetic tasks and the atlas bundle, for a wall-clock budget.

    python Tools/training/train.py --preset production --minutes 8.5 --out OUT [--resume CKPT] [--device cuda]

--minutes counts from process start, startup and the final validation/save/export included, so the process
ends on time. Checkpoints (model + optimizer + step + random states), metrics.json, loss.png and
default.safetensors are rewritten in --out every couple of minutes, so a killed run still leaves its last state.
Resume on any device: `--resume OUT/latest.pt --device cpu --minutes 30`.
--empty-task-p (default 0.3; 0 = the task mix the bundled model was trained on) is the share of tasks that also
hold label-free images, in the support set and/or as the query, so the model learns to draw nothing where the
target is absent (see synthetic.empty_layout and atlas_tasks.AtlasBank._empty_slices).
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import json
import math
import pathlib
import sys
import time

T_START = time.time()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import augment  # noqa: E402
import checkpoint  # noqa: E402
import export  # noqa: E402
import pngplot  # noqa: E402
import validate  # noqa: E402
from atlas_tasks import AtlasBank  # noqa: E402
from model_ref import UniverSeg  # noqa: E402
from synthetic import synthetic_tasks  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_BUNDLE = HERE / "bundle" / "atlas_bundle.npz"

# Support sizes come from a short list so cudnn.benchmark tunes a handful of shapes, not one per step.
PRESETS = {
    # The shipped model: see README.md for why these widths, sizes and schedule.
    "production": dict(encoder=[32, 64, 64, 64], decoder=[64, 64, 32], size=128, low_res=64, low_res_frac=0.25,
                       images_per_step=408, max_tasks=64, supports=[1, 2, 4, 8, 12, 16, 24, 32],
                       support_weights=[1, 1, 1.5, 2, 2, 2.5, 2, 2], lr=3e-4, min_lr_frac=0.05,
                       warmup_steps=300, synth_frac=0.5, empty_task_p=0.3, val_tasks=64, val_every_s=90,
                       save_every_s=120, log_every_s=15, check_every=25),
    # A few CPU minutes that still show learning.
    "cpu": dict(encoder=[16, 32, 32, 32], decoder=[32, 32, 16], size=64, low_res=None, low_res_frac=0.0,
                images_per_step=54, max_tasks=12, supports=[1, 2, 4, 8], support_weights=[1, 1, 1, 1],
                lr=1e-3, min_lr_frac=0.1, warmup_steps=30, synth_frac=0.5, empty_task_p=0.3, val_tasks=24,
                val_every_s=60, save_every_s=120, log_every_s=15, check_every=10),
    # Seconds: the smoke test.
    "tiny": dict(encoder=[8, 8, 8, 8], decoder=None, size=32, low_res=None, low_res_frac=0.0,
                 images_per_step=12, max_tasks=4, supports=[1, 3], support_weights=[1, 1], lr=1e-3,
                 min_lr_frac=0.1, warmup_steps=2, synth_frac=0.5, empty_task_p=0.3, val_tasks=2,
                 val_every_s=1e9, save_every_s=1e9, log_every_s=1e9, check_every=2),
}


def log(msg: str) -> None:
    print(f"[{time.time() - T_START:7.1f}s] {msg}", flush=True)


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", choices=sorted(PRESETS), default="production")
    p.add_argument("--minutes", type=float, default=8.5, help="wall-clock budget from process start")
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps in this run (0: no limit)")
    p.add_argument("--device", default="auto", help="auto, cuda or cpu")
    p.add_argument("--out", default=str(HERE / "runs" / "latest"))
    p.add_argument("--resume", default="", help="checkpoint to continue from (its widths win over the preset)")
    p.add_argument("--bundle", default=str(DEFAULT_BUNDLE))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lr", type=float, help="peak learning rate (preset default otherwise)")
    p.add_argument("--synth-frac", type=float, help="share of synthetic tasks, 0..1 (1: no bundle needed)")
    p.add_argument("--empty-task-p", type=float,
                   help="share of tasks with label-free images in the support set and/or as the query, 0..1 "
                        "(preset default 0.3; 0: the task mix the bundled model was trained on)")
    p.add_argument("--no-mixed-val", action="store_true",
                   help="validate only on the synthetic and atlas sets (not the mixed sets with label-free queries)")
    p.add_argument("--val-tasks", type=int)
    p.add_argument("--images-per-step", type=int, help="images (support + query) per step at full resolution")
    return p.parse_args(argv)


class Trainer:
    def __init__(self, args, started: float):
        self.args = args
        self.started = started
        self.cfg = dict(PRESETS[args.preset])
        for key, value in (("lr", args.lr), ("synth_frac", args.synth_frac), ("val_tasks", args.val_tasks),
                           ("images_per_step", args.images_per_step), ("empty_task_p", args.empty_task_p)):
            if value is not None:
                self.cfg[key] = value
        dev = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
        if dev.startswith("cuda") and not torch.cuda.is_available():
            sys.exit(f"train: --device {dev} asked for, but torch {torch.__version__} sees no CUDA device")
        self.device = torch.device(dev)
        self.cuda = self.device.type == "cuda"
        if self.cuda:
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        self.out = pathlib.Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        resumed = checkpoint.load(args.resume) if args.resume else None
        if resumed:
            for key in ("encoder", "decoder"):
                self.cfg[key] = resumed["config"][key]
        self.model = UniverSeg(self.cfg["encoder"], self.cfg["decoder"]).to(self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=self.cfg["lr"])
        self.step, self.train_seconds, self.history, self.val_history, self.last_val = 0, 0.0, [], [], {}
        self.resumed_optimizer = False
        self.gen = torch.Generator(device=self.device).manual_seed(args.seed)
        self.rng = np.random.default_rng(args.seed)
        if resumed:
            self._restore(resumed)
        self.bank = None
        if self.cfg["synth_frac"] < 1:
            if not pathlib.Path(args.bundle).is_file():
                sys.exit(f"train: atlas bundle {args.bundle} not found: run Tools/training/make_bundle.py "
                         f"(or pass --synth-frac 1 for synthetic tasks only)")
            self.bank = AtlasBank(args.bundle, self.device)
            log(f"atlas bundle {args.bundle}: {len(self.bank.maps)} label maps, sha256 {self.bank.content_sha256[:12]}")
        n_params = sum(p.numel() for p in self.model.parameters())
        log(f"device {self.device} ({torch.cuda.get_device_name() if self.cuda else 'cpu'}), torch {torch.__version__}, "
            f"model enc {self.cfg['encoder']} dec {self.cfg['decoder']}, {n_params / 1e6:.2f}M parameters, "
            f"step {self.step}, preset {args.preset}, tasks with label-free images {self.cfg['empty_task_p']:.0%}")
        t = time.time()
        if not 0 <= self.cfg["empty_task_p"] <= 1:
            sys.exit(f"train: --empty-task-p must be in 0..1, not {self.cfg['empty_task_p']}")
        self.val_sets = validate.make_sets(self.cfg["val_tasks"], self.cfg["size"], self.device,
                                           args.bundle if self.bank is not None else None,
                                           mixed=not args.no_mixed_val)
        log(f"validation sets {', '.join(f'{k}: {v[0].shape[0]} tasks' for k, v in self.val_sets.items())} "
            f"({time.time() - t:.1f}s)")
        self.val_seconds = 0.0

    def _restore(self, state):
        self.model.load_state_dict(state["model"])
        self.resumed_optimizer = "optimizer" in state
        if self.resumed_optimizer:
            self.opt.load_state_dict(state["optimizer"])
        else:
            log("checkpoint has no optimizer state: Adam starts fresh")
        self.step = state["step"]
        self.train_seconds = state.get("train_seconds", 0.0)
        self.history = state.get("history", [])
        self.val_history = state.get("val_history", [])
        self.last_val = state.get("last_val", {})
        rng = state.get("rng", {})
        if "numpy" in rng:
            self.rng.bit_generator.state = rng["numpy"]
        if rng.get("device_type") == self.device.type and "generator" in rng:
            self.gen.set_state(rng["generator"])
        else:
            self.gen.manual_seed(self.args.seed * 1_000_003 + self.step)
        if "torch_cpu" in rng:
            torch.set_rng_state(rng["torch_cpu"])
        log(f"resumed from {self.args.resume} at step {self.step} ({self.train_seconds:.0f}s trained)")

    def autocast(self):
        if self.cuda:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def batch(self, n_support: int, res: int, images_per_step: int):
        scale = (self.cfg["size"] / res) ** 2
        b = int(min(self.cfg["max_tasks"], max(2, images_per_step * scale // (n_support + 1))))
        # a fixed split per (S, res) keeps the data-generation shapes few, so cudnn.benchmark tunes them once
        n_syn = int(round(b * self.cfg["synth_frac"])) if self.bank is not None else b
        empty_p = self.cfg["empty_task_p"]
        parts = []
        if n_syn:
            parts.append(synthetic_tasks(n_syn, n_support + 1, res, self.gen, self.device, empty_p=empty_p))
        if b - n_syn:
            parts.append(self.bank.tasks(b - n_syn, n_support + 1, res, self.rng, self.gen, empty_p=empty_p))
        images, labels = (torch.cat(x) for x in zip(*parts))
        images, labels = augment.in_task(images, labels, self.gen)
        return augment.task(images, labels, self.gen)

    def loss(self, images, labels):
        with self.autocast():
            logits = self.model(images[:, -1:], images[:, :-1, None], labels[:, :-1, None])
        return query_loss(logits.float(), labels)

    def lr_at(self, run_step: int, progress: float, warmup: int, lr_scale: float) -> float:
        warm = min(1.0, (run_step + 1) / max(warmup, 1))
        floor = self.cfg["min_lr_frac"]
        cosine = floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))
        return self.cfg["lr"] * lr_scale * warm * cosine

    def validate(self):
        t = time.time()
        result = validate.evaluate(self.model, self.val_sets, self.device, self.autocast, supports=(4, 16))
        self.val_seconds = time.time() - t
        self.last_val = result
        self.val_history.append({"step": self.step, "train_seconds": round(self.train_seconds, 1), **result})
        log("val " + ", ".join(f"{k} {v:.4f}" for k, v in result.items()) + f" ({self.val_seconds:.1f}s)")
        return result

    def state(self) -> dict:
        return {
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "optimizer": _to_cpu(self.opt.state_dict()),
            "step": self.step, "train_seconds": self.train_seconds, "config": self.cfg,
            "history": self.history, "val_history": self.val_history, "last_val": self.last_val,
            "rng": {"numpy": self.rng.bit_generator.state, "generator": self.gen.get_state(),
                    "device_type": self.device.type, "torch_cpu": torch.get_rng_state()},
            "bundle_sha256": self.bank.content_sha256 if self.bank is not None else None,
        }

    def save(self):
        t = time.time()
        state = self.state()
        files = checkpoint.save(self.out / "latest.pt", state)
        export.export(state, self.out / "default.safetensors", "f16")
        export.export(state, self.out / "default-f32.safetensors", "f32")
        (self.out / "metrics.json").write_text(json.dumps({
            "step": self.step, "train_seconds": round(self.train_seconds, 1), "config": self.cfg,
            "last_val": self.last_val, "val_history": self.val_history, "history": self.history}, indent=1))
        h = self.history
        pngplot.plot(str(self.out / "loss.png"), [
            ("TRAIN LOSS (BCE + 1 - SOFT DICE) VS STEP",
             [([e["step"] for e in h], [e["loss"] for e in h], (30, 90, 200))]),
            ("VAL DICE S16: BLUE SYNTH, RED ATLAS HELD-OUT",
             [([e["step"] for e in self.val_history], [e.get("synthetic_s16") for e in self.val_history],
               (30, 90, 200)),
              ([e["step"] for e in self.val_history], [e.get("atlas_s16", float("nan")) for e in self.val_history],
               (200, 40, 40))]),
            ("VAL FALSE-POSITIVE RATE S16 ON LABEL-FREE SLICES: BLUE SYNTH, RED ATLAS",
             [([e["step"] for e in self.val_history],
               [e.get(f"{k}_mixed_fp_s16", float("nan")) for e in self.val_history], color)
              for k, color in (("synthetic", (30, 90, 200)), ("atlas", (200, 40, 40)))]),
        ])
        log(f"saved {', '.join(str(f) for f in files)} + safetensors, metrics, loss.png ({time.time() - t:.1f}s)")

    def run(self):
        cfg, args = self.cfg, self.args
        deadline = self.started + args.minutes * 60
        supports = np.array(cfg["supports"])
        weights = np.array(cfg["support_weights"], float) / sum(cfg["support_weights"])
        # a resumed run keeps Adam's moments when the checkpoint has them (then a short ramp suffices) and is past
        # the low-resolution phase, which only helps a model that starts from scratch
        resumed = self.step > 0
        warmup = min(5 if self.resumed_optimizer else 50, cfg["warmup_steps"]) if resumed else cfg["warmup_steps"]
        low_res = cfg["low_res"] if not resumed else None
        images_per_step = cfg["images_per_step"]
        run_start = time.time()
        seconds_before = self.train_seconds
        train_budget = max(deadline - run_start - 20, 1.0)
        last_log = last_val = last_save = run_start
        run_step, lr_scale, bad_events = 0, 1.0, 0
        pending, images_seen, window_start, window_steps, window_images = [], 0, time.time(), 0, 0
        snapshot = (copy.deepcopy(self.model.state_dict()), copy.deepcopy(self.opt.state_dict()), self.step)
        self.model.train()
        self.validate()  # the starting point (untrained or resumed); also times validation for the reserve
        step_seconds, last_step_end = 0.0, time.time()
        while True:
            now = time.time()
            step_seconds, last_step_end = now - last_step_end, now
            # the final validation and save must fit: keep their time plus one more step in reserve
            reserve = 1.3 * self.val_seconds + 1.5 * step_seconds + 8 + (5 if self.cuda else 2)
            if now + reserve >= deadline or (args.max_steps and run_step >= args.max_steps):
                break
            progress = (now - run_start) / train_budget
            res = low_res if low_res and progress < cfg["low_res_frac"] else cfg["size"]
            n_support = int(self.rng.choice(supports, p=weights))
            lr = self.lr_at(run_step, progress, warmup, lr_scale)
            for group in self.opt.param_groups:
                group["lr"] = lr
            try:
                images, labels = self.batch(n_support, res, images_per_step)
                loss = self.loss(images, labels)
                self.opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                self.opt.step()
            except torch.cuda.OutOfMemoryError:
                self.opt.zero_grad(set_to_none=True)
                images = labels = loss = None
                torch.cuda.empty_cache()
                images_per_step = int(images_per_step * 0.7)
                log(f"out of GPU memory at S={n_support}, res {res}: images per step now {images_per_step}")
                continue
            pending.append(loss.detach())
            n_images = images.shape[0] * images.shape[1]
            images_seen += n_images
            window_images += n_images
            window_steps += 1
            self.step += 1
            run_step += 1
            self.train_seconds = seconds_before + time.time() - run_start
            if run_step % cfg["check_every"] == 0 or run_step in (3, 10):
                values = torch.stack(pending).float().cpu().tolist()
                pending = []
                if not all(math.isfinite(v) for v in values):
                    bad_events += 1
                    self.model.load_state_dict(snapshot[0])
                    self.opt.load_state_dict(snapshot[1])
                    self.step = snapshot[2]
                    lr_scale *= 0.5
                    log(f"non-finite loss: back to step {self.step}, learning rate x{lr_scale}")
                    if bad_events > 5:
                        log("too many non-finite losses: stopping early")
                        break
                    continue
                snapshot = (copy.deepcopy(self.model.state_dict()), copy.deepcopy(self.opt.state_dict()), self.step)
                self.history.append({"step": self.step, "loss": round(sum(values) / len(values), 5),
                                     "lr": lr, "res": res, "time": round(time.time() - self.started, 1)})
                now = time.time()
                if now - last_log >= cfg["log_every_s"] or run_step in (3, 10, cfg["check_every"] * 4):
                    rate = window_steps / max(now - window_start, 1e-6)
                    mem = f", GPU peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB" if self.cuda else ""
                    log(f"step {self.step}: loss {self.history[-1]['loss']:.4f}, lr {lr:.2e}, res {res}, "
                        f"S {n_support}, {rate:.2f} steps/s, {window_images / max(now - window_start, 1e-6):.0f} "
                        f"images/s{mem}")
                    last_log, window_start, window_steps, window_images = now, now, 0, 0
                # validation keeps to about a tenth of the time, however slow the device
                if now - last_val >= max(cfg["val_every_s"], 10 * self.val_seconds):
                    self.validate()
                    last_val = window_start = time.time()
                    window_steps = window_images = 0
                if time.time() - last_save >= cfg["save_every_s"]:
                    self.save()
                    last_save = window_start = time.time()
                    window_steps = window_images = 0
        log(f"training stopped at step {self.step} after {time.time() - run_start:.0f}s of this run, "
            f"{images_seen} images")
        self.validate()
        self.save()
        log(f"done in {time.time() - self.started:.0f}s (budget {args.minutes * 60:.0f}s)")


def query_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """BCE + (1 - soft Dice) of the query: logits (B, 1, H, W) float, labels (B, n, H, W) = supports, then query.

    Soft Dice per query is (2 I + e) / (P + T + e), I = sum(p t), P = sum(p), T = sum(t) in pixels.
    - Query with the target (T > 0): e = 1, the loss the bundled model was trained with (unchanged).
    - Label-free query (T = 0): the term is 1 - e / (P + e), and with e = 1 it misbehaves both ways. It saturates
      for any visible false shape (P = 200 px: gradient 1/(P + 1)^2 = 2.5e-5 per pixel, so Dice does nothing
      about the shapes we want gone), and the faint background dominates it (128 x 128 pixels at p = 1e-4 already
      cost 0.62 with a pull of 0.14 per pixel: pressure towards ever more negative logits everywhere, not
      "nothing here"). Weighting Dice off for these queries leaves only BCE, whose pull per pixel (1/(B H W)) is
      about 1/50 of the pull Dice puts on a false pixel of a query whose target covers 1 % of the image (1/(2 T B)):
      label-free queries would count for little. So e = A, the mean target area (pixels) of the task's support
      images that show it (at least 0.25 % of the image): the term becomes P / (P + A). A false shape as large as
      the target the support shows costs 0.5; the pull per pixel at P = 0 is 1/A, of the order Dice puts on a
      false pixel next to a target of area A; it does not saturate until P >> A; faint background (P << A) costs
      almost nothing. Its gradient is positive in every pixel, so descent lowers every logit of a label-free
      query. (A batch-wide Dice would be defined too, but it lets large targets outweigh small ones in every batch,
      unlike the per-query loss the model was trained with.)
    """
    target = labels[:, -1:]
    bce = F.binary_cross_entropy_with_logits(logits, target)
    prob = torch.sigmoid(logits)
    inter = (prob * target).sum(dim=(1, 2, 3))
    t_sum = target.sum(dim=(1, 2, 3))
    area = labels[:, :-1].sum(dim=(2, 3))                                    # (B, S) support target areas
    expected = area.sum(dim=1) / (area > 0).sum(dim=1).clamp_min(1)
    floor = 0.0025 * labels.shape[-1] * labels.shape[-2]
    smooth = torch.where(t_sum > 0, torch.ones_like(t_sum), expected.clamp_min(floor))
    soft_dice = (2 * inter + smooth) / (prob.sum(dim=(1, 2, 3)) + t_sum + smooth)
    return bce + (1 - soft_dice).mean()


def _to_cpu(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_cpu(v) for v in obj]
    return obj


def main(argv=None, started: float | None = None):
    """started: when the budget began (the process start when run as a script, else now)."""
    args = parse(argv)
    Trainer(args, started if started is not None else time.time()).run()


if __name__ == "__main__":
    main(started=T_START)
