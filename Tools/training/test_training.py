"""CPU smoke test of the whole training path, in seconds.

tiny bundle from the real shared/data/train files -> synthetic and atlas tasks -> augmentation -> a few steps
of a tiny model -> checkpoint -> resume -> validation -> safetensors export -> reload with the reference
loader and compare outputs with the trained model.
"""
from __future__ import annotations

import json
import pathlib
import struct
import sys
import zlib

import numpy as np
import pytest
import torch

HERE = pathlib.Path(__file__).resolve().parent

import augment  # noqa: E402
import checkpoint  # noqa: E402
import make_bundle  # noqa: E402
import pngplot  # noqa: E402
import train  # noqa: E402
from atlas_tasks import AtlasBank  # noqa: E402
from model_ref import load as load_reference  # noqa: E402
from synthetic import synthetic_tasks  # noqa: E402


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("bundle") / "tiny.npz"
    make_bundle.build(make_bundle.data_root(None), out, tiny=True)
    return out


def _is_binary(x: torch.Tensor) -> bool:
    return bool(((x == 0) | (x == 1)).all())


def test_synthetic_tasks_are_images_in_unit_range_with_binary_nonempty_labels():
    gen = torch.Generator().manual_seed(0)
    images, labels = synthetic_tasks(6, 4, 64, gen, "cpu")
    assert images.shape == labels.shape == (6, 4, 64, 64)
    assert images.min() >= 0 and images.max() <= 1 and _is_binary(labels)
    assert (labels.sum(dim=(2, 3)) > 0).float().mean() > 0.8
    again = synthetic_tasks(6, 4, 64, torch.Generator().manual_seed(0), "cpu")
    assert torch.equal(images, again[0]), "a seeded generator must reproduce its tasks"


def test_atlas_tasks_show_their_target(tiny_bundle):
    bank = AtlasBank(str(tiny_bundle), "cpu")
    assert len(bank.maps) == 9 and bank.labels.shape == (9, 1, *bank.box)
    assert torch.equal(bank.labels, bank.labels.round()) and 0 < bank.labels.max() <= bank.max_labels
    gen, rng = torch.Generator().manual_seed(0), np.random.default_rng(0)
    images, labels = bank.tasks(8, 3, 64, rng, gen)
    assert images.shape == (8, 3, 64, 64) and _is_binary(labels)
    assert images.min() >= 0 and images.max() <= 1
    assert (labels.sum(dim=(2, 3)) > 0).float().mean() > 0.8
    _, held = bank.tasks(4, 3, 64, rng, gen, heldout=True)
    assert (held.sum(dim=(2, 3)) > 0).float().mean() > 0.5


def test_bundle_holds_out_labels_from_training(tiny_bundle):
    bank = AtlasBank(str(tiny_bundle), "cpu")
    for m in bank.maps:
        assert not (m.eligible & m.heldout).any()
        if m.n >= 40:
            assert m.heldout.any()


def test_augmentations_keep_shapes_ranges_and_binary_labels():
    gen = torch.Generator().manual_seed(1)
    images, labels = synthetic_tasks(5, 3, 32, gen, "cpu")
    for fn in (augment.in_task, augment.task):
        images, labels = fn(images, labels, gen)
        assert images.shape == labels.shape == (5, 3, 32, 32)
        assert images.min() >= 0 and images.max() <= 1 and _is_binary(labels)


def test_task_augmentation_is_shared_within_a_task():
    gen = torch.Generator().manual_seed(2)
    base = torch.rand(8, 1, 16, 16)
    images = base.expand(8, 3, 16, 16).clone()
    labels = (base > 0.5).float().expand(8, 3, 16, 16).clone()
    out_images, out_labels = augment.task(images, labels, gen)
    assert torch.equal(out_images[:, 0], out_images[:, 2]) and torch.equal(out_labels[:, 0], out_labels[:, 1])


def test_train_checkpoint_resume_export_reload(tiny_bundle, tmp_path):
    out = tmp_path / "run"
    common = ["--preset", "tiny", "--out", str(out), "--bundle", str(tiny_bundle), "--device", "cpu",
              "--minutes", "5"]
    train.main(common + ["--max-steps", "3"])
    first = checkpoint.load(out / "latest.pt")
    assert first["step"] == 3 and "optimizer" in first and first["last_val"]
    assert {"synthetic_s16", "atlas_s16"} <= set(first["last_val"])
    for name in ("default.safetensors", "default-f32.safetensors", "loss.png", "metrics.json"):
        assert (out / name).is_file(), name

    train.main(common + ["--max-steps", "2", "--resume", str(out / "latest.pt")])
    second = checkpoint.load(out / "latest.pt")
    assert second["step"] == 5
    assert not torch.equal(first["model"]["out_conv.conv.weight"], second["model"]["out_conv.conv.weight"])
    assert json.loads((out / "metrics.json").read_text())["step"] == 5

    model = train.UniverSeg(second["config"]["encoder"], second["config"]["decoder"])
    model.load_state_dict(second["model"])
    model.eval()
    gen = torch.Generator().manual_seed(3)
    images, labels = synthetic_tasks(2, 4, 32, gen, "cpu")
    args = (images[:, -1:], images[:, :-1, None], labels[:, :-1, None])
    with torch.no_grad():
        expected = model(*args)
        exact = load_reference(str(out / "default-f32.safetensors"))(*args, split=False)
        half = load_reference(str(out / "default.safetensors"))(*args, split=False)
    assert torch.allclose(exact, expected, atol=1e-5, rtol=1e-5)
    assert torch.allclose(half, expected, atol=2e-2, rtol=2e-2)
    from safetensors import safe_open
    with safe_open(str(out / "default.safetensors"), "pt") as f:
        meta = f.metadata()
        assert "enc_blocks.0.cross.cross_conv.weight" in f.keys()
        assert f.get_tensor("out_conv.conv.weight").dtype == torch.float16
    assert meta["steps"] == "5" and json.loads(meta["encoder_features"]) == [8, 8, 8, 8]


def test_checkpoint_splits_optimizer_when_too_big(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "MAX_BYTES", 1000)
    state = {"model": {"w": torch.zeros(1000)}, "optimizer": {"state": {0: torch.ones(1000)}}, "step": 7}
    files = checkpoint.save(tmp_path / "latest.pt", state)
    assert len(files) == 2
    back = checkpoint.load(tmp_path / "latest.pt")
    assert back["step"] == 7 and torch.equal(back["optimizer"]["state"][0], torch.ones(1000))


def test_png_writer_produces_a_valid_png(tmp_path):
    path = tmp_path / "curve.png"
    pngplot.plot(str(path), [("LOSS", [([0, 1, 2], [3.0, 2.0, 1.5], (0, 0, 255))])], width=200, height=100)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    assert (w, h) == (200, 100)
    idat = data.index(b"IDAT")
    length = struct.unpack(">I", data[idat - 4:idat])[0]
    raw = zlib.decompress(data[idat + 4:idat + 4 + length])
    assert len(raw) == h * (1 + 3 * w)
    pixels = np.frombuffer(raw, np.uint8).reshape(h, 1 + 3 * w)[:, 1:].reshape(h, w, 3)
    assert ((pixels == [0, 0, 255]).all(axis=2)).sum() > 50, "the curve must be drawn"
