"""Loss-curve PNG with numpy and the standard library only (no matplotlib or Pillow on the GPU machine)."""
from __future__ import annotations

import struct
import zlib

import numpy as np

# 3x5 pixel glyphs, rows top to bottom, '1' = ink
_FONT = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
    "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001001001001",
    "8": "111101111101111", "9": "111101111001111", ".": "000000000000010", "-": "000000111000000",
    ":": "000010000010000", "=": "000111000111000", "/": "001001010100100", "%": "101001010100101",
    "A": "010101111101101", "B": "110101110101110", "C": "011100100100011", "D": "110101101101110",
    "E": "111100110100111", "F": "111100110100100", "G": "011100101101011", "H": "101101111101101",
    "I": "111010010010111", "K": "101101110101101", "L": "100100100100111", "M": "101111111101101",
    "N": "110101101101101", "O": "010101101101010", "P": "110101110100100", "R": "110101110101101",
    "S": "011100010001110", "T": "111010010010010", "U": "101101101101111", "V": "101101101101010",
    "W": "101101111111101", "X": "101101010101101", "Y": "101101010010010", "Z": "111001010100111",
    "(": "010100100100010", ")": "010001001001010", "+": "000010111010000", ",": "000000000010100",
    " ": "000000000000000",
}


def write_png(path: str, rgb: np.ndarray) -> None:
    """Writes an (H, W, 3) uint8 array as an 8-bit RGB PNG."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + np.ascontiguousarray(rgb[y]).tobytes() for y in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def _text(img, x, y, s, color, scale=2):
    for ch in s.upper():
        glyph = _FONT.get(ch, _FONT[" "])
        for i, bit in enumerate(glyph):
            if bit == "1":
                r, c = divmod(i, 3)
                img[y + r * scale:y + (r + 1) * scale, x + c * scale:x + (c + 1) * scale] = color
        x += 4 * scale


def _line(img, x0, y0, x1, y1, color):
    n = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
    xs = np.clip(np.rint(np.linspace(x0, x1, n)).astype(int), 0, img.shape[1] - 1)
    ys = np.clip(np.rint(np.linspace(y0, y1, n)).astype(int), 0, img.shape[0] - 1)
    img[ys, xs] = color
    img[np.clip(ys + 1, 0, img.shape[0] - 1), xs] = color


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.1e}"


def plot(path: str, panels: list[tuple[str, list[tuple[list, list, tuple]]]], width=640, height=260) -> None:
    """One panel per (title, series); each series is (xs, ys, rgb). Axes autoscale; min/max values printed."""
    img = np.full((height * len(panels), width, 3), 255, np.uint8)
    for p, (title, series) in enumerate(panels):
        top = p * height
        left, right, y0, y1 = 60, width - 15, top + 30, top + height - 25
        img[y0:y1 + 1, left] = 0
        img[y1, left:right + 1] = 0
        _text(img, left, top + 8, title, (0, 0, 0))
        pts = [(np.asarray(xs, float), np.asarray(ys, float), c) for xs, ys, c in series if len(xs)]
        pts = [(x[np.isfinite(y)], y[np.isfinite(y)], c) for x, y, c in pts]
        pts = [s for s in pts if len(s[0])]
        if not pts:
            continue
        xmin = min(s[0].min() for s in pts)
        xmax = max(s[0].max() for s in pts)
        ymin = min(s[1].min() for s in pts)
        ymax = max(s[1].max() for s in pts)
        if xmax == xmin:
            xmax = xmin + 1
        if ymax == ymin:
            ymax = ymin + 1
        _text(img, 4, y0, _fmt(ymax), (0, 0, 0))
        _text(img, 4, y1 - 10, _fmt(ymin), (0, 0, 0))
        _text(img, right - 60, y1 + 8, _fmt(xmax), (0, 0, 0))
        for xs, ys, color in pts:
            px = left + 1 + (xs - xmin) / (xmax - xmin) * (right - left - 2)
            py = y1 - 1 - (ys - ymin) / (ymax - ymin) * (y1 - y0 - 2)
            if len(px) == 1:
                _line(img, px[0] - 2, py[0], px[0] + 2, py[0], color)
            for i in range(len(px) - 1):
                _line(img, px[i], py[i], px[i + 1], py[i + 1], color)
    write_png(path, img)
