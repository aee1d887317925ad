"""Exports a checkpoint's model as safetensors with the official UniverSeg key names (for the Swift engine).

    python Tools/training/export.py CHECKPOINT OUT.safetensors [--dtype f16|f32]

The writer is our own (8-byte little-endian header length, JSON header, raw little-endian data), so the GPU
machine needs no safetensors package; the test reloads the file with the reference loader.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import struct

import torch

_DTYPES = {"f16": (torch.float16, "F16"), "f32": (torch.float32, "F32")}


def write_safetensors(path, tensors: dict[str, torch.Tensor], metadata: dict[str, str], dtype: str = "f16"):
    torch_dtype, tag = _DTYPES[dtype]
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = tensors[name].detach().to("cpu", torch_dtype).contiguous().numpy().astype("<" + ("f2" if dtype == "f16" else "f4")).tobytes()
        header[name] = {"dtype": tag, "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path = pathlib.Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def metadata_from(state: dict) -> dict[str, str]:
    cfg = state.get("config", {})
    val = state.get("last_val", {})
    return {
        "format": "pt", "model": "UniverSeg", "formulation": "official cross-conv keys",
        "encoder_features": json.dumps(cfg.get("encoder")), "decoder_features": json.dumps(cfg.get("decoder")),
        "steps": str(state.get("step", 0)), "train_seconds": f"{state.get('train_seconds', 0.0):.0f}",
        "val_dice_synthetic_s16": f"{val.get('synthetic_s16', float('nan')):.4f}",
        "val_dice_atlas_heldout_s16": f"{val.get('atlas_s16', float('nan')):.4f}",
        "trained_on": "synthetic tasks + shared/data/train atlases only",
        "input": "128x128 slices in [0,1]; output logits",
    }


def export(checkpoint_state: dict, out, dtype: str = "f16"):
    write_safetensors(out, checkpoint_state["model"], metadata_from(checkpoint_state), dtype)


def main(argv=None):
    import checkpoint
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint")
    p.add_argument("out")
    p.add_argument("--dtype", choices=sorted(_DTYPES), default="f16")
    args = p.parse_args(argv)
    export(checkpoint.load(args.checkpoint), args.out, args.dtype)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
