"""PyTorch reference implementation of UniverSeg (Butoi et al., ICCV 2023), written for this project.

State-dict keys match the official checkpoint (`universeg_v1_nf64_ss64_STA.pt`):
  enc_blocks.{i}.cross.cross_conv.{weight,bias}      (F, Cq+Cs, 3, 3), query channels first
  enc_blocks.{i}.target.vmapped.conv.{weight,bias}   (F, F, 3, 3)
  enc_blocks.{i}.support.vmapped.conv.{weight,bias}  (F, F, 3, 3)
  dec_blocks.{i}.(same three)
  out_conv.conv.{weight,bias}                        (1, F, 1, 1)

Two numerically equivalent forward formulations:
  split=False  the official one: one conv over every concatenated [query, support_i] pair;
  split=True   conv is linear, so conv([q, s_i]) = conv_q(q) + conv_s(s_i) + b: the query half runs once,
               not S times (faster, half the memory; used for training).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

LEAK = 0.01


class _Conv(nn.Module):
    """Holds `.conv` so parameter names read `...conv.weight` as in the official model."""

    def __init__(self, cin: int, cout: int, kernel: int, leaky_init: bool):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2)
        nn.init.kaiming_normal_(self.conv.weight, nonlinearity="leaky_relu" if leaky_init else "linear")
        nn.init.zeros_(self.conv.bias)


class _Vmapped(nn.Module):
    """Naming shim: the official model wraps per-element convs in `Vmap(...).vmapped`."""

    def __init__(self, op: nn.Module):
        super().__init__()
        self.vmapped = op


class _Cross(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.cross_conv = nn.Conv2d(cin, cout, 3, padding=1)
        nn.init.kaiming_normal_(self.cross_conv.weight, nonlinearity="linear")
        nn.init.zeros_(self.cross_conv.bias)


class CrossBlock(nn.Module):
    def __init__(self, query_channels: int, support_channels: int, features: int):
        super().__init__()
        self.query_channels = query_channels
        self.cross = _Cross(query_channels + support_channels, features)
        self.target = _Vmapped(_Conv(features, features, 3, leaky_init=True))
        self.support = _Vmapped(_Conv(features, features, 3, leaky_init=True))

    def forward(self, query: torch.Tensor, support: torch.Tensor, split: bool):
        """query (B, Cq, H, W); support (B, S, Cs, H, W) -> (B, F, H, W), (B, S, F, H, W)."""
        B, S, Cs, H, W = support.shape
        cq = self.query_channels
        w, b = self.cross.cross_conv.weight, self.cross.cross_conv.bias
        if split:
            from_query = F.conv2d(query, w[:, :cq], b, padding=1)
            from_support = F.conv2d(support.reshape(B * S, Cs, H, W), w[:, cq:], None, padding=1)
            interaction = from_query[:, None] + from_support.reshape(B, S, -1, H, W)
        else:
            pairs = torch.cat([query[:, None].expand(B, S, cq, H, W), support], dim=2)
            interaction = F.conv2d(pairs.reshape(B * S, cq + Cs, H, W), w, b, padding=1).reshape(B, S, -1, H, W)
        new_query = interaction.mean(dim=1)
        query = F.leaky_relu(self.target.vmapped.conv(new_query), LEAK)
        Fo = interaction.shape[2]
        support = F.leaky_relu(self.support.vmapped.conv(interaction.reshape(B * S, Fo, H, W)), LEAK)
        return query, support.reshape(B, S, -1, H, W)


class UniverSeg(nn.Module):
    def __init__(self, encoder_features=(64, 64, 64, 64), decoder_features=None):
        super().__init__()
        decoder_features = list(decoder_features or list(encoder_features)[-2::-1])
        self.enc_blocks = nn.ModuleList()
        self.dec_blocks = nn.ModuleList()
        cq, cs = 1, 2
        skips = []
        for f in encoder_features:
            self.enc_blocks.append(CrossBlock(cq, cs, f))
            cq = cs = f
            skips.append(f)
        for f, skip in zip(decoder_features, skips[-2::-1]):
            self.dec_blocks.append(CrossBlock(cq + skip, cs + skip, f))
            cq = cs = f
        self.out_conv = _Conv(cq, 1, 1, leaky_init=False)

    def forward(self, query, support_images, support_labels, split: bool = True):
        """query (B,1,H,W); support_images, support_labels (B,S,1,H,W), all in [0,1] -> logits (B,1,H,W)."""
        q = query
        s = torch.cat([support_images, support_labels], dim=2)
        skips = []
        last = len(self.enc_blocks) - 1
        for i, block in enumerate(self.enc_blocks):
            q, s = block(q, s, split)
            if i == last:
                break
            skips.append((q, s))
            q = F.max_pool2d(q, 2)
            B, S, C, H, W = s.shape
            s = F.max_pool2d(s.reshape(B * S, C, H, W), 2).reshape(B, S, C, H // 2, W // 2)
        for block in self.dec_blocks:
            q_skip, s_skip = skips.pop()
            q = torch.cat([_up(q), q_skip], dim=1)
            B, S, C, H, W = s.shape
            s = torch.cat([_up(s.reshape(B * S, C, H, W)).reshape(B, S, C, 2 * H, 2 * W), s_skip], dim=2)
            q, s = block(q, s, split)
        return self.out_conv.conv(q)


def _up(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)


def widths_from_state_dict(state: dict) -> tuple[list[int], list[int]]:
    """Encoder and decoder widths, read from the weights (so any width or depth loads)."""
    enc = [state[f"enc_blocks.{i}.cross.cross_conv.weight"].shape[0]
           for i in range(64) if f"enc_blocks.{i}.cross.cross_conv.weight" in state]
    dec = [state[f"dec_blocks.{i}.cross.cross_conv.weight"].shape[0]
           for i in range(64) if f"dec_blocks.{i}.cross.cross_conv.weight" in state]
    return enc, dec


def load(path: str) -> UniverSeg:
    """Loads a .pt state_dict or a .safetensors file into a reference model of matching widths."""
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file
        state = {k: v.float() for k, v in load_file(path).items()}
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    enc, dec = widths_from_state_dict(state)
    model = UniverSeg(enc, dec)
    model.load_state_dict(state)
    return model.eval()
