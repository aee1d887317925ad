"""Compares logits dumped by `universeg-bench --dump FILE` with the float64 reference on the same synthetic inputs.

  python check_parity.py --weights W.safetensors --support 16 --size 128 --logits swift.f32
Prints the max absolute logit difference (the engine's tests require <= 1e-4 on the committed fixtures).
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from bench_reference import image  # noqa: E402
from universeg_model import load  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--weights", required=True)
    p.add_argument("--support", type=int, required=True)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--logits", required=True)
    a = p.parse_args()
    model = load(a.weights).double()
    images = torch.stack([image(i + 1, a.size) for i in range(a.support)])
    labels = (images > 0.6).float()
    q = image(0, a.size)[None, None]
    with torch.no_grad():
        ref = model(q.double(), images[None, :, None].double(), labels[None, :, None].double(), split=True)[0, 0]
    got = torch.from_numpy(np.fromfile(a.logits, dtype="<f4").reshape(a.size, a.size)).double()
    print(f"max |engine - float64 reference| = {(got - ref).abs().max().item():.3g} "
          f"(logit range {ref.min().item():.2f} .. {ref.max().item():.2f})")


if __name__ == "__main__":
    main()
