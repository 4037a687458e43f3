#!/usr/bin/env python3
"""Draws the Jangkau app icons (a green disc with a white house) as PNG files.

Python standard library only (zlib PNG writer). Run from anywhere:
    python3 scripts/make-icons.py
writes src-tauri/icons/{32x32,64x64,128x128,128x128@2x,icon}.png. The PNGs are checked in;
run this again only to change the mark.
"""
import math
import pathlib
import struct
import zlib

GREEN = (0x1B, 0x7F, 0x4C)  # the app's primary green
WHITE = (0xFF, 0xFF, 0xFF)

OUT = pathlib.Path(__file__).resolve().parent.parent / "src-tauri" / "icons"
SIZES = {"32x32.png": 32, "64x64.png": 64, "128x128.png": 128, "128x128@2x.png": 256, "icon.png": 512}


def inside_house(x, y):
    """The white house in unit coordinates (0..1, y down): a roof triangle, a body, a door."""
    # Roof: apex (0.5, 0.22), base from (0.20, 0.47) to (0.80, 0.47).
    if 0.22 <= y <= 0.47:
        half = (y - 0.22) / 0.25 * 0.30
        if abs(x - 0.5) <= half:
            return True
    # Body, with the door cut out.
    if 0.28 <= x <= 0.72 and 0.46 <= y <= 0.76:
        door = 0.44 <= x <= 0.56 and 0.58 <= y <= 0.76
        return not door
    return False


def pixel(size, px, py):
    """RGBA of one pixel, 4x4 supersampled for smooth edges."""
    n = 4
    disc = house = 0
    for sy in range(n):
        for sx in range(n):
            x = (px + (sx + 0.5) / n) / size
            y = (py + (sy + 0.5) / n) / size
            if math.hypot(x - 0.5, y - 0.5) <= 0.48:
                disc += 1
                if inside_house(x, y):
                    house += 1
    total = n * n
    if disc == 0:
        return (0, 0, 0, 0)
    a = disc / total
    t = house / disc
    rgb = tuple(round(g * (1 - t) + w * t) for g, w in zip(GREEN, WHITE))
    return rgb + (round(a * 255),)


def png(size):
    rows = bytearray()
    for py in range(size):
        rows.append(0)  # filter: none
        for px in range(size):
            rows.extend(pixel(size, px, py))

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, size in SIZES.items():
        (OUT / name).write_bytes(png(size))
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
