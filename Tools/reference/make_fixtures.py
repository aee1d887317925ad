"""Writes the golden fixtures for the Swift engine tests (Tests/UniverSegTests/Fixtures).

Run (needs Tools/reference/requirements.txt):  python Tools/reference/make_fixtures.py
Deterministic (fixed seeds). Expected logits are computed in float64 with the reference model, so they are the
exact answer for the stored weights; float32 implementations (torch's and ours) both sit within ~1e-6 of it.

Files (all little-endian):
  weights  w16.pt / w16.safetensors / w16_f16.safetensors   width 16, 4 levels (f16: weights rounded to fp16)
           w16_views.pt      same values as w16.pt, but every tensor is a view into one shared storage (non-zero
                             storage offsets) and some are non-contiguous (transposed strides)
           w16_half.pt, w16_bf16.pt  w16 stored as HalfStorage / BFloat16Storage
           w16_wrapped.pt    {"state_dict": <w16>, "epoch": 3, "lr": 0.001, "note": "..."} (a training checkpoint)
           mixed.safetensors enc widths (8,12,16), dec widths (10,6): 3 levels, unequal widths
           nf64_f16.safetensors  the full-width architecture (64 features, 4 levels), fp16 to stay small
           bad_global.pt     a zip whose data.pkl calls os.system (must be refused, never run)
           deflated.pt       w16.pt re-zipped with deflate compression (must be refused clearly)
  cases    manifest.json lists each case: weights, H, W, S, and the raw float32 files
           <case>.query.f32 (H*W), <case>.images.f32 (S*H*W), <case>.labels.f32 (S*H*W), <case>.logits.f32 (H*W).
           Ensemble cases list several support sets and store <case>.prob.f32: the mean of the sets' sigmoids.
"""
from __future__ import annotations

import io
import json
import math
import os
import sys
import zipfile
from pathlib import Path

import torch
from safetensors.torch import save_file

from universeg_model import UniverSeg  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "Tests" / "UniverSegTests" / "Fixtures"


def build(enc, dec, seed: int) -> UniverSeg:
    torch.manual_seed(seed)
    model = UniverSeg(enc, dec)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):  # the reference zero-initialises biases: make them matter
                p.copy_(0.1 * torch.randn_like(p))
    return model.eval()


def state(model: UniverSeg) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


def smooth_field(gen: torch.Generator, h: int, w: int, blobs: int = 5) -> torch.Tensor:
    ys = torch.arange(h, dtype=torch.float64)[:, None]
    xs = torch.arange(w, dtype=torch.float64)[None, :]
    field = torch.zeros(h, w, dtype=torch.float64)
    for _ in range(blobs):
        cy, cx = torch.rand(2, generator=gen, dtype=torch.float64) * torch.tensor([h, w])
        sigma = (0.08 + 0.2 * torch.rand(1, generator=gen, dtype=torch.float64)) * min(h, w)
        amp = 0.5 + torch.rand(1, generator=gen, dtype=torch.float64)
        field += amp * torch.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / (2 * sigma ** 2))
    field += 0.05 * torch.rand(h, w, generator=gen, dtype=torch.float64)
    return ((field - field.min()) / (field.max() - field.min())).float()


def make_inputs(seed: int, h: int, w: int, s: int, empty_label: int | None = None):
    gen = torch.Generator().manual_seed(seed)
    query = smooth_field(gen, h, w)
    images = torch.stack([smooth_field(gen, h, w) for _ in range(s)])
    labels = torch.stack([(smooth_field(gen, h, w, 3) > 0.55).float() for _ in range(s)])
    if empty_label is not None:
        labels[empty_label] = 0
    return query, images, labels


def reference_logits(model: UniverSeg, sd: dict, query, images, labels) -> torch.Tensor:
    """float64 forward pass of the official (plain) formulation; also checks split == plain."""
    ref = UniverSeg(*widths(sd)).double()
    ref.load_state_dict({k: v.double() for k, v in sd.items()})
    q = query.double()[None, None]
    si = images.double()[None, :, None]
    sl = labels.double()[None, :, None]
    with torch.no_grad():
        plain = ref(q, si, sl, split=False)
        split = ref(q, si, sl, split=True)
    assert (plain - split).abs().max().item() < 1e-9
    return plain[0, 0]


def widths(sd: dict):
    enc = [sd[f"enc_blocks.{i}.cross.cross_conv.weight"].shape[0]
           for i in range(16) if f"enc_blocks.{i}.cross.cross_conv.weight" in sd]
    dec = [sd[f"dec_blocks.{i}.cross.cross_conv.weight"].shape[0]
           for i in range(16) if f"dec_blocks.{i}.cross.cross_conv.weight" in sd]
    return enc, dec


def write_f32(path: Path, t: torch.Tensor) -> None:
    path.write_bytes(t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes())


def views_state(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Same values, but all tensors share one storage; 4-D weights are stored transposed (non-contiguous)."""
    total = sum(v.numel() for v in sd.values()) + 7  # 7: a leading gap so that no offset is zero
    flat = torch.zeros(total)
    out, at = {}, 7
    for k, v in sd.items():
        n = v.numel()
        if v.dim() == 4:  # store (Cin, Cout, kh, kw) contiguously, expose the permuted view (Cout, Cin, kh, kw)
            flat[at:at + n] = v.permute(1, 0, 2, 3).contiguous().reshape(-1)
            view = flat[at:at + n].view(v.shape[1], v.shape[0], *v.shape[2:]).permute(1, 0, 2, 3)
        else:
            flat[at:at + n] = v.reshape(-1)
            view = flat[at:at + n].view(v.shape)
        assert torch.equal(view, v)
        out[k] = view
        at += n
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)

    w16 = build((16, 16, 16, 16), None, seed=1)
    sd16 = state(w16)
    torch.save(sd16, OUT / "w16.pt")
    save_file(sd16, str(OUT / "w16.safetensors"))
    sd16_half = {k: v.half() for k, v in sd16.items()}
    save_file(sd16_half, str(OUT / "w16_f16.safetensors"))
    sd16_rounded = {k: v.float() for k, v in sd16_half.items()}
    torch.save(sd16_half, OUT / "w16_half.pt")
    torch.save({k: v.bfloat16() for k, v in sd16.items()}, OUT / "w16_bf16.pt")
    torch.save(views_state(sd16), OUT / "w16_views.pt")
    torch.save({"state_dict": sd16, "epoch": 3, "lr": 0.001, "note": "training checkpoint", "best": [0.5, None, True]},
               OUT / "w16_wrapped.pt")

    mixed = build((8, 12, 16), (10, 6), seed=2)
    sdm = state(mixed)
    save_file(sdm, str(OUT / "mixed.safetensors"))

    nf64 = build((64, 64, 64, 64), None, seed=3)
    sd64_rounded = {k: v.half().float() for k, v in state(nf64).items()}
    save_file({k: v.half() for k, v in sd64_rounded.items()}, str(OUT / "nf64_f16.safetensors"))

    # Malicious and unsupported archives.
    evil = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
    with zipfile.ZipFile(OUT / "bad_global.pt", "w", zipfile.ZIP_STORED) as z:
        z.writestr("bad_global/data.pkl", evil)
        z.writestr("bad_global/byteorder", "little")
    with zipfile.ZipFile(OUT / "w16.pt") as src, zipfile.ZipFile(OUT / "deflated.pt", "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info.filename))

    cases = []

    def add(name, weights, sd, h, w, sets, note=""):
        entry = {"name": name, "weights": weights, "height": h, "width": w, "note": note, "sets": []}
        query = None
        probs = []
        for k, (seed, s, empty) in enumerate(sets):
            q, images, labels = make_inputs(seed, h, w, s, empty)
            if query is None:
                query = q
                write_f32(OUT / f"{name}.query.f32", q)
            tag = f"{name}.set{k}"
            write_f32(OUT / f"{tag}.images.f32", images)
            write_f32(OUT / f"{tag}.labels.f32", labels)
            logits = reference_logits(None, sd, query, images, labels)
            write_f32(OUT / f"{tag}.logits.f32", logits)
            probs.append(torch.sigmoid(logits))
            entry["sets"].append({"support": s, "images": f"{tag}.images.f32", "labels": f"{tag}.labels.f32",
                                  "logits": f"{tag}.logits.f32"})
        entry["query"] = f"{name}.query.f32"
        if len(sets) > 1:
            write_f32(OUT / f"{name}.prob.f32", torch.stack(probs).mean(0))
            entry["probability"] = f"{name}.prob.f32"
        cases.append(entry)

    add("w16_32_s1", "w16.pt", sd16, 32, 32, [(10, 1, None)])
    add("w16_32_s3", "w16.safetensors", sd16, 32, 32, [(11, 3, None)])
    add("w16_64_s3", "w16.pt", sd16, 64, 64, [(12, 3, None)])
    add("w16_48x64_empty", "w16.safetensors", sd16, 48, 64, [(13, 2, 1)], "support element 1 has an empty label")
    add("w16f16_32_s3", "w16_f16.safetensors", sd16_rounded, 32, 32, [(14, 3, None)],
        "fp16 weights: expected logits use the fp16-rounded weights")
    add("mixed_24x40_s2", "mixed.safetensors", sdm, 24, 40, [(15, 2, None)], "3 levels, unequal widths, non-square")
    add("nf64_32_s3", "nf64_f16.safetensors", sd64_rounded, 32, 32, [(16, 3, None)],
        "full-width architecture (fp16-rounded weights)")
    add("w16_ensemble", "w16.pt", sd16, 32, 32, [(17, 2, None), (18, 3, None), (19, 1, None)],
        "support-set ensemble: probability is the mean of the sets' sigmoids")

    (OUT / "manifest.json").write_text(json.dumps({"tolerance": 1e-4, "cases": cases}, indent=1) + "\n")
    total = sum(f.stat().st_size for f in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} files, {total / 1e6:.2f} MB, to {OUT}")


if __name__ == "__main__":
    main()
