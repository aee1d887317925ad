"""Checkpoints: model, optimizer, step and random states in one file, written atomically.

A file may come back from the GPU machine only if it is <= 16 MiB; if the whole checkpoint is bigger, the
optimizer moves to a sibling `<name>.optim.pt` and load() puts it back.
"""
from __future__ import annotations

import os
import pathlib

import torch

MAX_BYTES = 15 * 2**20


def _atomic_save(obj, path: pathlib.Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def optim_path(path: pathlib.Path) -> pathlib.Path:
    return path.with_name(path.stem + ".optim.pt")


def save(path, state: dict) -> list[pathlib.Path]:
    """state holds 'model', 'optimizer' and plain values; returns the files written."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_save(state, path)
    if path.stat().st_size <= MAX_BYTES:
        if optim_path(path).exists():
            optim_path(path).unlink()
        return [path]
    _atomic_save({"optimizer": state["optimizer"]}, optim_path(path))
    _atomic_save({k: v for k, v in state.items() if k != "optimizer"}, path)
    return [path, optim_path(path)]


def load(path) -> dict:
    path = pathlib.Path(path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    if "optimizer" not in state and optim_path(path).exists():
        state["optimizer"] = torch.load(optim_path(path), map_location="cpu", weights_only=True)["optimizer"]
    return state
