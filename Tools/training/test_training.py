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
import validate  # noqa: E402
from atlas_tasks import AtlasBank  # noqa: E402
from model_ref import load as load_reference  # noqa: E402
from synthetic import empty_layout, synthetic_tasks  # noqa: E402


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
    assert {"synthetic_s16", "atlas_s16", "synthetic_mixed_s16", "atlas_mixed_s16", "synthetic_mixed_fp_s16",
            "atlas_mixed_fp_s16"} <= set(first["last_val"])
    assert first["config"]["empty_task_p"] == 0.3
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


# ---- label-free images ("nothing here") ----

def _check_layout(layout: torch.Tensor, n: int):
    assert layout.shape[1] == n and layout.dtype == torch.bool
    assert not layout[:, 0].any(), "support 0 always shows the target"
    assert (layout.sum(dim=1) <= n // 2).all(), "at most half of a task's images are label-free"
    assert ((~layout[:, :-1]).sum(dim=1) >= 1).all()


def test_empty_layout_rule():
    gen = torch.Generator().manual_seed(4)
    for n in (2, 3, 5, 17):
        layout = empty_layout(400, n, 1.0, gen, "cpu")
        _check_layout(layout, n)
        assert layout.any(dim=1).all(), "with p = 1 every task has a label-free image"
        if n >= 3:
            query = layout[:, -1].float().mean()
            assert 0.3 < query < 0.7, "the query is label-free in about half of the tasks"
            assert layout[:, 1:-1].any(dim=1).float().mean() > 0.3, "supports mix positive and label-free images"
        if n >= 5:
            counts = layout[:, :-1].sum(dim=1)
            assert len(set(counts.tolist())) >= 3, "the share of label-free supports varies"
    assert not empty_layout(50, 9, 0.0, gen, "cpu").any()
    share = empty_layout(4000, 9, 0.3, gen, "cpu").any(dim=1).float().mean()
    assert 0.25 < share < 0.35
    rng = np.random.default_rng(4)
    for n in (2, 3, 17):
        layout = torch.from_numpy(np.stack([AtlasBank._empty_layout(n, 1.0, rng) for _ in range(300)]))
        _check_layout(layout, n)
        assert layout.any(dim=1).all()


def _label_free(labels: torch.Tensor) -> torch.Tensor:
    return labels.sum(dim=(-2, -1)) == 0


def test_synthetic_tasks_with_label_free_images():
    images, labels, layout = synthetic_tasks(12, 9, 64, torch.Generator().manual_seed(5), "cpu", empty_p=1.0,
                                             return_layout=True)
    _check_layout(layout, 9)
    free = _label_free(labels)
    assert free[layout].all(), "the images the layout marks are label-free"
    assert free[:, :-1].any() and free[:, -1].any(), "label-free supports and label-free queries"
    assert (~free[:, -1]).any(), "and queries with the target"
    assert (~free[:, :-1]).sum(dim=1).min() >= 1, "every task keeps a support with the target"
    assert images[layout].flatten(1).std(dim=1).min() > 0.02, "label-free images still show the other regions"
    # empty_p = 0: exactly the tasks drawn before the option existed (no extra random numbers), no layout
    plain = synthetic_tasks(6, 4, 32, torch.Generator().manual_seed(6), "cpu")
    zero = synthetic_tasks(6, 4, 32, torch.Generator().manual_seed(6), "cpu", empty_p=0.0, return_layout=True)
    assert torch.equal(plain[0], zero[0]) and torch.equal(plain[1], zero[1]) and not zero[2].any()


def test_atlas_tasks_with_label_free_slices(tiny_bundle):
    bank = AtlasBank(str(tiny_bundle), "cpu")
    images, labels, layout = bank.tasks(16, 7, 48, np.random.default_rng(7), torch.Generator().manual_seed(7),
                                        empty_p=1.0, return_layout=True)
    _check_layout(layout, 7)
    free = _label_free(labels)
    assert free[layout].all(), "slices chosen without the target show no target"
    assert layout[:, :-1].any() and layout[:, -1].any(), "label-free supports and label-free queries"
    assert (~free[:, :-1]).sum(dim=1).min() >= 1, "every task keeps a support with the target"
    assert images[layout].flatten(1).std(dim=1).min() > 0.02, "label-free slices show anatomy, not a blank image"
    # empty_p = 0: the same tasks as without the option, none label-free by design
    plain = bank.tasks(4, 3, 32, np.random.default_rng(8), torch.Generator().manual_seed(8))
    zero = bank.tasks(4, 3, 32, np.random.default_rng(8), torch.Generator().manual_seed(8), empty_p=0.0,
                      return_layout=True)
    assert torch.equal(plain[0], zero[0]) and torch.equal(plain[1], zero[1]) and not zero[2].any()


def _old_loss(logits, labels):
    """The loss before label-free queries existed: soft Dice smoothed by 1 for every query."""
    target = labels[:, -1:]
    prob = torch.sigmoid(logits)
    dice = (2 * (prob * target).sum(dim=(1, 2, 3)) + 1) / (prob.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3)) + 1)
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, target) + (1 - dice).mean()


def test_loss_on_a_label_free_query_is_finite_and_pushes_down():
    h = w = 64
    support = torch.zeros(3, 2, h, w)
    support[:, :, 8:16, 8:16] = 1                                # the support shows a 64-pixel target
    query = torch.zeros(3, 1, h, w)                              # the query has none
    labels = torch.cat([support, query], dim=1)
    logits = torch.full((3, 1, h, w), -10.0)
    logits[1] = 0.0                                              # p = 0.5 everywhere
    logits[2, :, 20:28, 20:28] = 1.0                             # a false shape (p = 0.73) as large as the target
    logits.requires_grad_(True)
    loss = train.query_loss(logits, labels)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    assert (logits.grad > 0).all(), "descent lowers every logit of a label-free query"
    # the false shape is penalised through Dice, not left to BCE: its pixels get several times the push of the
    # old e = 1 smoothing, which saturates on any visible shape
    old = logits.detach().clone().requires_grad_(True)
    _old_loss(old, labels).backward()
    assert logits.grad[2, 0, 24, 24] > 3 * old.grad[2, 0, 24, 24]
    # a near-perfect "nothing" costs almost nothing (the old loss charged it for the faint background)
    per_item = [float(train.query_loss(logits.detach()[i:i + 1], labels[i:i + 1])) for i in range(3)]
    assert per_item[0] < 0.01 < per_item[2] < per_item[1]
    assert float(_old_loss(logits.detach()[:1], labels[:1])) > 5 * per_item[0]
    # all-empty labels (no support shows the target either) stay finite
    assert torch.isfinite(train.query_loss(torch.zeros(1, 1, h, w), torch.zeros(1, 3, h, w)))


def test_loss_on_queries_with_the_target_is_unchanged():
    gen = torch.Generator().manual_seed(9)
    labels = (torch.rand(4, 3, 16, 16, generator=gen) > 0.6).float()
    logits = torch.randn(4, 1, 16, 16, generator=gen)
    assert torch.allclose(train.query_loss(logits, labels), _old_loss(logits, labels))


def test_false_positive_rate_on_a_hand_made_case():
    target = torch.zeros(4, 8, 8)
    target[0, 2:4, 2:4] = 1                                      # item 0 shows the target; 1-3 are label-free
    pred = torch.zeros(4, 8, 8)
    pred[0, 2:4, 2:4] = 1
    pred[1, 5, 5] = 1                                            # one stray pixel counts as a false positive
    pred[3, 0:3, 0:3] = 1
    assert validate.false_positives(pred, target) == (2, 3)


def test_validation_reports_fp_rate_next_to_dice(monkeypatch):
    """Model stub that draws a square wherever the query is: FP rate 1 on label-free queries."""
    class DrawsEverywhere(torch.nn.Module):
        def forward(self, query, support_images, support_labels):
            out = torch.full_like(query, -5.0)
            out[..., 4:12, 4:12] = 5.0
            return out
    images = torch.rand(4, 3, 16, 16)
    labels = torch.zeros(4, 3, 16, 16)
    labels[:, :2, 4:12, 4:12] = 1
    labels[:2, 2, 4:12, 4:12] = 1                                 # queries 0, 1 show the target; 2, 3 do not
    import contextlib
    sets = {"synthetic": (images, labels), "synthetic_mixed": (images, labels)}
    out = validate.evaluate(DrawsEverywhere(), sets, "cpu", contextlib.nullcontext, supports=(2,))
    assert out["synthetic_s2"] == pytest.approx(0.5)               # two perfect, two empty queries given a shape
    assert out["synthetic_mixed_s2"] == pytest.approx(1.0)         # Dice over queries that show the target
    assert out["synthetic_mixed_fp_s2"] == pytest.approx(1.0)
    assert "synthetic_fp_s2" not in out
